#pragma once
// Applies the profile to one DICOM object in memory: every element at every depth
// of sequences gets its table action; private elements are removed unless listed;
// Patient ID / Patient's Name become the keyed pseudonym; the de-identification
// markers (0012,0062/0063/0064), (0028,0303) are set. Thread-safe for distinct
// files (the Profile and Pseudonymizer are shared read-only).
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "data/deid/keyed.h"
#include "data/deid/profile.h"
#include "data/deid/text_tagger.h"

class DcmFileFormat;

namespace medtrain::data::deid {

struct DeidSettings {
  ProfileOptions options;
  std::set<uint32_t> keep_private;  // (group << 16) | element, exact private tags to retain
  std::string tool_version;         // written into De-identification Method
  // Optional (`deid --text-model`): every text value that gets "C" is, after the
  // rule-based scrub, passed to it and each span found becomes "[LABEL]". Called
  // from every worker thread at once (text_tagger.h). Unset: rules only.
  TextTagger text_tagger;
  // Names the tagger in the run's settings id (resume never mixes outputs made
  // with another model or none); e.g. the SHA-256 of the bundle's weights.
  std::string text_tagger_id;
};

struct DeidResult {
  std::string pseudonym;
  // "(gggg,eeee)" -> the action letters applied to it (over all nesting levels),
  // "P" for the pseudonym. Tags only: never a value.
  std::map<std::string, std::string> actions;
  int day_offset = 0;        // applied when dates_shifted
  bool dates_shifted = false;
  int private_removed = 0;
  int bad_dates_removed = 0;  // DA/DT/TM under option C that were not valid: emptied
  // What the text tagger replaced, in walk order: tags and code-point offsets
  // into the value after the rule-based scrub. Never the text.
  std::vector<TextReplacement> text_replacements;
  // Tags whose tagged value had to be shortened to stay valid for its VR ->
  // "short_tokens" or "truncated" (vr_fit.h).
  std::map<std::string, std::string> text_fitted;
  // The new identifiers, to name the output file.
  std::string study_uid, series_uid, sop_instance_uid;
};

// The Code Value (CID 7050) and meaning of the profile and each option.
struct MethodCode {
  const char* value;
  const char* meaning;
};
MethodCode basic_profile_code();
MethodCode option_code(ProfileOption o);

DeidResult deidentify(DcmFileFormat& file, const Profile& profile, const Pseudonymizer& keyed,
                      const DeidSettings& settings);

}  // namespace medtrain::data::deid
