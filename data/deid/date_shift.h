#pragma once
// Date shifting for the Retain Longitudinal Temporal Information with Modified
// Dates option: every DA/DT of a patient moves by the same whole number of days, so
// intervals (and times of day, and time zones) survive while the real dates do not.
// Pure functions; nullopt means the value is not a valid DICOM date/time (PS3.5
// 6.2), and the caller must then remove it rather than keep an unshifted date.
#include <optional>
#include <string>

namespace medtrain::data::deid {

// Days since 1970-01-01 of a proleptic Gregorian date, and back (any year 1..9999).
long days_from_civil(int y, int m, int d);
void civil_from_days(long z, int& y, int& m, int& d);

// DA "YYYYMMDD" -> shifted "YYYYMMDD".
std::optional<std::string> shift_da(const std::string& value, int days);
// DT "YYYYMMDD[HH[MM[SS[.F{1,6}]]]][&ZZXX]" -> date part shifted, the rest kept.
// A DT of less than day precision (YYYY, YYYYMM) cannot be shifted: nullopt.
std::optional<std::string> shift_dt(const std::string& value, int days);
// TM "HH[MM[SS[.F{1,6}]]]" (or the old "HH:MM:SS"): whole-day shifts leave it as is,
// so it is only checked.
bool valid_tm(const std::string& value);

// By VR ("DA", "DT", "TM"), each value of a multi-valued string (backslash-separated);
// surrounding spaces trimmed, empty stays empty. nullopt if any value is invalid or
// the VR is not one of the three.
std::optional<std::string> shift_temporal(const std::string& vr, const std::string& value, int days);

}  // namespace medtrain::data::deid
