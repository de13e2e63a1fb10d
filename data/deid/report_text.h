#pragma once
// Free-text reports that come with a DICOM tree: every file below --in whose
// name ends in ".txt" (any case) is a report, not a DICOM object. A report is
// UTF-8 text; `deid --text-model` replaces each PHI span the tagger finds with
// "[LABEL]" (the policy of the free-text tags, text_tagger.h) and writes the
// result to <out>/reports/<input id>.txt. Without a tagger a report is skipped,
// never copied (tree_runner.h): rules alone cannot clean free text that names
// no identifier found elsewhere.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "data/deid/text_tagger.h"

namespace medtrain::data::deid {

inline constexpr const char* kReportsFolder = "reports";  // below --out; pseudonym folders are hex
// The tagger reads a report in one pass (all its windows in one forward), so
// memory grows with its length: 128 KiB is far above a radiology or pathology
// report and keeps a worker's forward to a few hundred MB.
inline constexpr size_t kMaxReportBytes = size_t{128} << 10;

// Whether `path` names a report (extension .txt, any case).
bool is_report_file(const std::filesystem::path& path);

// Where a report's bytes are not UTF-8: "line L: invalid UTF-8 at byte offset B
// of the line (0-based; a report must be UTF-8)", the policy of text manifests
// (data/text/text_manifest.h); nullopt when the text is UTF-8.
std::optional<std::string> invalid_utf8_in_report(const std::string& bytes);

// One span replaced, as the audit records it (never the text): the 1-based line
// where it starts and its code-point offsets in the whole report, [start, end).
struct ReportReplacement {
  int64_t line = 0, start = 0, end = 0;
  std::string label;
};

struct CleanedReport {
  std::string text;
  std::vector<ReportReplacement> replacements;  // in text order
};

// The report (valid UTF-8) with every span `tagger` finds replaced.
CleanedReport clean_report(const std::string& text, const TextTagger& tagger);

}  // namespace medtrain::data::deid
