#pragma once
// The PS3.15 Annex E Basic Application Level Confidentiality Profile as a table of
// (tag -> action), parsed from data/deid/basic_profile.tsv, plus the options medtrain
// implements. Pure and thread-safe once built: workers share one const Profile.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace medtrain::data::deid {

// Annex E action codes (Table E.1-1 legend).
enum class Action : char {
  kDummy = 'D',   // replace with a non-zero-length dummy consistent with the VR
  kZero = 'Z',    // replace with a zero-length value
  kRemove = 'X',  // remove
  kKeep = 'K',    // keep (sequences are still processed recursively)
  kClean = 'C',   // clean: keep the meaning, remove identifying content
  kUid = 'U',     // replace the UID with a keyed one, consistently within the key
};

// The options, in the column order of the TSV.
enum class ProfileOption : int {
  kRetainLongModifiedDates = 0,
  kRetainPatientCharacteristics = 1,
  kRetainDeviceIdentity = 2,
  kCleanDescriptors = 3,
};
inline constexpr int kOptionCount = 4;

struct ProfileOptions {
  std::array<bool, kOptionCount> enabled{};
  bool has(ProfileOption o) const { return enabled[static_cast<int>(o)]; }
  void set(ProfileOption o, bool on = true) { enabled[static_cast<int>(o)] = on; }
};

// Column name in the TSV ("rtn_long_modif_dates", ...) and the user-facing flag
// value ("long-modified-dates", ...) of each option.
const char* option_column(ProfileOption o);
const char* option_flag(ProfileOption o);
// Accepts either spelling; throws DataError naming the accepted values otherwise.
ProfileOption parse_option(const std::string& name);

struct ProfileRow {
  uint32_t tag = 0;   // (group << 16) | element, wildcard digits zero
  uint32_t mask = 0;  // bits that must match: 0xFFFFFFFF unless the tag has x digits
  std::string name;
  std::string basic;  // as written in the standard, e.g. "X/Z/D"
  std::array<std::string, kOptionCount> option;  // "" where the option changes nothing
};

// The single action a row resolves to. Compound basic actions (X/Z, X/D, Z/D,
// X/Z/D, X/Z/U*) take their last letter, valid for any attribute type; an enabled
// option with a non-empty cell overrides, and between options K beats C beats the rest.
Action resolve_action(const ProfileRow& row, const ProfileOptions& options);

class Profile {
 public:
  // Parses the TSV text; `source` names it in errors (file:line).
  static Profile parse(const std::string& text, const std::string& source);
  // The table compiled into the binary.
  static const Profile& basic();

  const std::vector<ProfileRow>& rows() const { return rows_; }
  const ProfileRow* find(uint16_t group, uint16_t element) const;

 private:
  std::vector<ProfileRow> rows_;
  std::unordered_map<uint32_t, size_t> exact_;  // tag -> index in rows_
  std::vector<size_t> masked_;                  // rows with x digits
};

// "(gggg,eeee)" upper-case hex.
std::string tag_string(uint16_t group, uint16_t element);

}  // namespace medtrain::data::deid
