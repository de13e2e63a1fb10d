#include "data/deid/date_shift.h"

#include <cctype>
#include <fmt/format.h>

namespace medtrain::data::deid {
namespace {

bool all_digits(const std::string& s, size_t from, size_t n) {
  if (from + n > s.size()) return false;
  for (size_t i = from; i < from + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

int num(const std::string& s, size_t from, size_t n) { return std::stoi(s.substr(from, n)); }

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

// "YYYYMMDD" at the start of s, valid calendar date, shifted.
std::optional<std::string> shift_ymd(const std::string& s, int days) {
  if (!all_digits(s, 0, 8)) return std::nullopt;
  const int y = num(s, 0, 4), m = num(s, 4, 2), d = num(s, 6, 2);
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return std::nullopt;
  int ny = 0, nm = 0, nd = 0;
  civil_from_days(days_from_civil(y, m, d) + days, ny, nm, nd);
  if (ny < 1 || ny > 9999) return std::nullopt;
  return fmt::format("{:04d}{:02d}{:02d}", ny, nm, nd);
}

// HH[MM[SS[.F{1,6}]]] starting at `from` and ending at `to`.
bool valid_time_digits(const std::string& s, size_t from, size_t to) {
  const size_t n = to - from;
  if (n == 0) return true;
  static const int kMax[] = {23, 59, 60};  // 60: leap second
  size_t pos = from;
  for (int field = 0; field < 3 && pos < to; ++field) {
    if (s[pos] == '.') return false;
    if (!all_digits(s, pos, 2) || pos + 2 > to || num(s, pos, 2) > kMax[field]) return false;
    pos += 2;
    if (pos < to && s[pos] == '.') {
      if (field != 2) return false;
      const size_t frac = to - pos - 1;
      return frac >= 1 && frac <= 6 && all_digits(s, pos + 1, frac);
    }
  }
  return pos == to;
}

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\0')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\0')) --e;
  return s.substr(b, e - b);
}

}  // namespace

// Howard Hinnant's days_from_civil / civil_from_days (public domain algorithms).
long days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const long era = (y >= 0 ? y : y - 399) / 400;
  const long yoe = y - era * 400;
  const long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void civil_from_days(long z, int& y, int& m, int& d) {
  z += 719468;
  const long era = (z >= 0 ? z : z - 146096) / 146097;
  const long doe = z - era * 146097;
  const long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const long mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(yoe + era * 400 + (m <= 2));
}

std::optional<std::string> shift_da(const std::string& value, int days) {
  if (value.size() != 8) return std::nullopt;
  return shift_ymd(value, days);
}

std::optional<std::string> shift_dt(const std::string& value, int days) {
  if (value.size() < 8) return std::nullopt;
  size_t end = value.size();
  const size_t tz = value.find_first_of("+-", 8);
  if (tz != std::string::npos) {
    // &ZZXX: sign, hours 00-14, minutes
    if (value.size() - tz != 5 || !all_digits(value, tz + 1, 4) || num(value, tz + 1, 2) > 14 ||
        num(value, tz + 3, 2) > 59) {
      return std::nullopt;
    }
    end = tz;
  }
  if (!valid_time_digits(value, 8, end)) return std::nullopt;
  auto date = shift_ymd(value, days);
  if (!date) return std::nullopt;
  return *date + value.substr(8);
}

bool valid_tm(const std::string& value) {
  if (value.empty()) return false;
  if (value.size() == 8 && value[2] == ':' && value[5] == ':') {  // ACR-NEMA "HH:MM:SS"
    return valid_tm(value.substr(0, 2) + value.substr(3, 2) + value.substr(6, 2));
  }
  return valid_time_digits(value, 0, value.size());
}

std::optional<std::string> shift_temporal(const std::string& vr, const std::string& value, int days) {
  if (vr != "DA" && vr != "DT" && vr != "TM") return std::nullopt;
  std::string out;
  size_t start = 0;
  while (true) {
    const size_t sep = value.find('\\', start);
    const std::string part = trim(value.substr(start, sep == std::string::npos ? std::string::npos : sep - start));
    if (!part.empty()) {
      std::optional<std::string> shifted;
      if (vr == "DA") shifted = shift_da(part, days);
      else if (vr == "DT") shifted = shift_dt(part, days);
      else if (valid_tm(part)) shifted = part;
      if (!shifted) return std::nullopt;
      out += *shifted;
    }
    if (sep == std::string::npos) return out;
    out += '\\';
    start = sep + 1;
  }
}

}  // namespace medtrain::data::deid
