// Date shifting: the calendar arithmetic against a day-by-day count, each DICOM
// temporal VR's format, and bad values refused (never passed through unshifted).
#include <gtest/gtest.h>

#include "data/deid/date_shift.h"

namespace medtrain::data::deid {
namespace {

TEST(DeidDates, CalendarMatchesDayByDayCount) {
  // Brute force: walk forward one day at a time from 1970-01-01 with a plain month table.
  int y = 1970, m = 1, d = 1;
  for (long n = 0; n < 60000; ++n) {  // to ~2134, through 2000 (leap) and 2100 (not)
    ASSERT_EQ(days_from_civil(y, m, d), n) << y << "-" << m << "-" << d;
    int yy = 0, mm = 0, dd = 0;
    civil_from_days(n, yy, mm, dd);
    ASSERT_EQ(yy * 10000 + mm * 100 + dd, y * 10000 + m * 100 + d);
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    const int len[] = {31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (++d > len[m - 1]) {
      d = 1;
      if (++m > 12) {
        m = 1;
        ++y;
      }
    }
  }
}

TEST(DeidDates, ShiftDa) {
  EXPECT_EQ(shift_da("20240301", -1), "20240229");
  EXPECT_EQ(shift_da("20230301", -1), "20230228");
  EXPECT_EQ(shift_da("20250101", -1), "20241231");
  EXPECT_EQ(shift_da("20000229", 366), "20010301");
  for (const char* bad : {"20230229", "20231301", "20230100", "2023-01-01", "2023010", "abcdefgh", "", "202301011"}) {
    EXPECT_FALSE(shift_da(bad, -10).has_value()) << bad;
  }
}

TEST(DeidDates, ShiftDtKeepsTimeAndZone) {
  EXPECT_EQ(shift_dt("20240301", -1), "20240229");
  EXPECT_EQ(shift_dt("20240301123045.123456+0100", -1), "20240229123045.123456+0100");
  EXPECT_EQ(shift_dt("2024030112", -31), "2024013012");
  EXPECT_EQ(shift_dt("20240301-0500", 1), "20240302-0500");
  for (const char* bad : {"2024", "202403", "20240301250000", "20240301126000", "20240301123045.", "20240301+01",
                          "20240301123045.1234567", "20240230", "20240301+2500"}) {
    EXPECT_FALSE(shift_dt(bad, -1).has_value()) << bad;
  }
}

TEST(DeidDates, TimeFormats) {
  for (const char* ok : {"12", "1230", "123045", "123045.1", "123045.123456", "235960", "12:30:45"}) {
    EXPECT_TRUE(valid_tm(ok)) << ok;
  }
  for (const char* bad : {"", "1", "123", "240000", "126000", "123045.", "123045.1234567", "12.5", "ab", "12:30"}) {
    EXPECT_FALSE(valid_tm(bad)) << bad;
  }
}

TEST(DeidDates, ShiftTemporalByVrAndMultiValue) {
  EXPECT_EQ(shift_temporal("DA", "20240301\\20240305", -2), "20240228\\20240303");
  EXPECT_EQ(shift_temporal("DA", "20240301 ", -2), "20240228");
  EXPECT_EQ(shift_temporal("TM", "101010", -2), "101010");
  EXPECT_EQ(shift_temporal("DT", "", 5), "");
  EXPECT_FALSE(shift_temporal("DA", "20240301\\bad", -2).has_value());
  EXPECT_FALSE(shift_temporal("LO", "20240301", -2).has_value());
  // Intervals survive: two dates of one patient keep their distance.
  const auto a = shift_da("20200115", -1234), b = shift_da("20211231", -1234);
  ASSERT_TRUE(a && b);
  auto days = [](const std::string& s) {
    return days_from_civil(std::stoi(s.substr(0, 4)), std::stoi(s.substr(4, 2)), std::stoi(s.substr(6, 2)));
  };
  EXPECT_EQ(days(*b) - days(*a), days("20211231") - days("20200115"));
}

}  // namespace
}  // namespace medtrain::data::deid
