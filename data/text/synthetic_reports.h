#pragma once
// Synthetic chest X-ray / CT radiology reports for demos and tests
// (`medtrain demo-data --kind reports`), written as a text manifest
// (text_manifest.h) at <out_dir>/reports.jsonl:
//
//   {"id": "R00012", "patient": "P0007", "split": "train", "text": "...",
//    "labels": ["effusion"], "spans": [{"start": 9, "end": 17, "label": "NAME"}, ...]}
//
// Findings (report_finding_names): pneumothorax, effusion, consolidation,
// cardiomegaly, nodule. Each finding of a report is positive, negated
// ("No pneumothorax.", "Heart size is normal."), uncertain ("Cannot exclude a
// small nodule.") or not mentioned, with several phrasings and synonyms per
// polarity, so a classifier must read negation, not spot keywords.
//
// Note [U-Ones]
// "labels" lists the findings that are positive OR uncertain: uncertain mentions
// count as positive (the U-Ones policy of CheXpert, Irvin et al. 2019), the
// conservative choice for a screening label. Negated and unmentioned findings are
// not listed.
//
// PHI is planted in headers and footers (patient name, dates of birth and of the
// exam, MRN / accession numbers, a phone number, an address; names and cities
// with accents or CJK, so code points != bytes) and every planted value is a
// span with a label from report_phi_labels(): NAME, DATE, ID, PHONE, ADDRESS.
// A span covers the value only ("Dr. Alvarez": the span is "Alvarez").
//
// Reports are split by patient: val_fraction of the patients (at least one when
// > 0) are "val", the rest "train". The file is a pure function of the options.
#include <cstdint>
#include <string>
#include <vector>

namespace medtrain::data::text {

// The five finding labels, in this order.
const std::vector<std::string>& report_finding_names();
// The five PHI span labels, in this order.
const std::vector<std::string>& report_phi_labels();

struct ReportOptions {
  std::string out_dir;        // created if missing; reports.jsonl is overwritten
  int64_t count = 600;        // reports, >= 1
  int64_t patients = 200;     // 1..count; report k belongs to patient k % patients
  uint64_t seed = 0;
  double val_fraction = 0.25; // share of patients in split "val", [0, 1)
};

struct ReportSummary {
  std::string path;  // <out_dir>/reports.jsonl
  int64_t reports = 0, patients = 0;
  int64_t train_reports = 0, val_reports = 0;
  int64_t train_patients = 0, val_patients = 0;
  int64_t spans = 0;                  // PHI spans planted in all reports
  std::vector<int64_t> label_counts;  // reports listing each finding, in report_finding_names() order
};

// Writes the manifest (atomically: a temporary file renamed into place). Throws
// DataError on bad options or a write failure.
ReportSummary write_synthetic_reports(const ReportOptions& options);

}  // namespace medtrain::data::text
