#include "data/text/synthetic_reports.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <cstdio>
#include <random>
#include <sstream>

#include "data/data_error.h"
#include "data/io/user_file.h"
#include "data/rng.h"
#include "data/text/synthetic_phrases.h"
#include "data/text/text_manifest.h"

namespace fs = std::filesystem;

namespace medtrain::data::text {
namespace {

using Rng = std::mt19937_64;
using Words = std::vector<const char*>;

bool chance(Rng& rng, double p) { return uniform01(rng) < p; }

int64_t code_points(const std::string& s) {
  return std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<uint8_t>(c) & 0xC0) != 0x80; });
}

// Fills {side} {size} {lobe} {mm} {cm} {sev}; a capitalized key ({Side}) capitalizes the value.
std::string fill(Rng& rng, std::string s) {
  return fill_placeholders(std::move(s), [&rng](const std::string& key) -> std::string {
    if (key == "mm") return std::to_string(between(rng, 4, 18));
    if (key == "cm") return std::to_string(between(rng, 1, 3)) + "." + std::to_string(between(rng, 0, 9));
    return finding_word(rng, key);
  });
}

// Phrasings of one finding. Nouns: bare ("No {n}.", "Possible {n}."); uncertain
// nouns may carry an article ("Cannot exclude {u}.").
struct Finding {
  Words positive, negated, uncertain, nouns, uncertain_nouns;
};

const Finding kFindings[] = {
    {// pneumothorax
     {"There is a {size} {side} pneumothorax.", "A {size} {side} apical pneumothorax is present.",
      "{Side} pneumothorax measuring {cm} cm at the apex.", "Interval development of a {size} {side} pneumothorax.",
      "Visceral pleural line at the {side} apex, consistent with pneumothorax."},
     {"The lungs are fully expanded without pneumothorax.", "Previously seen pneumothorax has resolved."},
     {"Questionable thin pleural line at the {side} apex, possibly a small pneumothorax."},
     {"pneumothorax"},
     {"a small pneumothorax", "pneumothorax", "a tiny {side} apical pneumothorax"}},
    {// effusion
     {"There is a {size} {side} pleural effusion.", "{Size} {side} pleural fluid collection.",
      "Bilateral pleural effusions, larger on the {side}.",
      "Blunting of the {side} costophrenic angle, consistent with a small effusion.", "Layering {side} pleural fluid."},
     {"The costophrenic angles are sharp.", "Previously noted pleural effusion has resolved."},
     {"Possible trace {side} pleural fluid."},
     {"pleural effusion", "pleural fluid", "effusion"},
     {"a small {side} pleural effusion", "trace pleural fluid", "a small effusion"}},
    {// consolidation
     {"Focal consolidation in the {lobe}.", "There is airspace consolidation in the {lobe}.",
      "Patchy airspace opacity in the {lobe}, consistent with consolidation.",
      "Dense consolidation of the {lobe} with air bronchograms.", "New {lobe} airspace disease."},
     {"The lungs are clear without focal consolidation.", "No focal airspace disease."},
     {"Subtle opacity in the {lobe}, which may represent early consolidation."},
     {"consolidation", "focal consolidation", "airspace consolidation"},
     {"early consolidation", "{lobe} consolidation", "an early infiltrate or consolidation"}},
    {// cardiomegaly
     {"The cardiac silhouette is enlarged.", "Enlarged cardiac silhouette.", "Cardiomegaly is present.",
      "The heart is {sev}ly enlarged.", "{Sev} cardiomegaly."},
     {"Heart size is normal.", "The cardiac silhouette is not enlarged.",
      "The cardiomediastinal silhouette is within normal limits.", "Normal heart size."},
     {"Borderline enlargement of the cardiac silhouette.",
      "Heart size is difficult to assess on this AP view; cardiomegaly is not excluded."},
     {"cardiomegaly", "enlargement of the cardiac silhouette"},
     {"mild cardiomegaly", "enlargement of the cardiac silhouette"}},
    {// nodule
     {"There is a {mm} mm nodule in the {lobe}.", "A {cm} cm spiculated nodule is seen in the {lobe}.",
      "{mm} mm solid pulmonary nodule, {lobe}.", "New nodular opacity in the {lobe}, measuring {mm} mm."},
     {"No suspicious pulmonary nodules.", "Previously described nodule is no longer seen."},
     {"Possible nodule versus nipple shadow in the {lobe}."},
     {"pulmonary nodule", "nodule", "nodular opacity", "suspicious nodule"},
     {"a small nodule", "a {mm} mm nodule in the {lobe}", "a pulmonary nodule"}},
};
constexpr size_t kNumFindings = 5;

enum class Status { kAbsent, kPositive, kNegated, kUncertain };

// Text with code-point spans tracked as it is appended.
class ReportText {
 public:
  void add(const std::string& s) {
    text_ += s;
    length_ += code_points(s);
  }
  void phi(const std::string& value, const char* label) {
    spans_.push_back({length_, length_ + code_points(value), label});
    add(value);
  }
  const std::string& text() const { return text_; }
  const std::vector<TextSpan>& spans() const { return spans_; }

 private:
  std::string text_;
  int64_t length_ = 0;
  std::vector<TextSpan> spans_;
};

// --- PHI values ---------------------------------------------------------------

const char* kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                         "July",    "August",   "September", "October", "November", "December"};

std::string date(Rng& rng, int64_t year_lo, int64_t year_hi) {
  const int64_t y = between(rng, year_lo, year_hi), m = between(rng, 1, 12), d = between(rng, 1, 28);
  char buf[48];
  switch (uniform_below(rng, 6)) {
    case 0: std::snprintf(buf, sizeof(buf), "%02ld/%02ld/%04ld", long(m), long(d), long(y)); break;
    case 1: std::snprintf(buf, sizeof(buf), "%04ld-%02ld-%02ld", long(y), long(m), long(d)); break;
    case 2: std::snprintf(buf, sizeof(buf), "%02ld.%02ld.%04ld", long(d), long(m), long(y)); break;
    case 3: std::snprintf(buf, sizeof(buf), "%s %ld, %04ld", kMonths[m - 1], long(d), long(y)); break;
    case 4: std::snprintf(buf, sizeof(buf), "%ld %.3s %04ld", long(d), kMonths[m - 1], long(y)); break;
    default: std::snprintf(buf, sizeof(buf), "%ld/%ld/%02ld", long(m), long(d), long(y % 100)); break;
  }
  return buf;
}

const Words kFirst = {"Jane", "John",   "Maria", "José",  "Zoë",   "François", "Björn",  "Aisha", "Łukasz", "Renée",
                "Chloé", "Omar", "Søren", "Ana",   "Wei",   "Priya",    "Jürgen", "Inés",  "Olga",   "Kwame"};
const Words kLast = {"Doe",    "Smith",  "Núñez",     "Müller",  "García", "O'Brien", "Nguyen", "Kowalski", "Dubois", "Johansson",
               "Alvarez", "Petrović", "Okafor", "Schäfer", "Chen",   "Brontë",  "Østergaard", "Patel", "Rossi", "Lefèvre"};

std::string person(Rng& rng) {
  const std::string first = pick(rng, kFirst), last = pick(rng, kLast);
  switch (uniform_below(rng, 10)) {
    case 0: case 1: return last + ", " + first;
    case 2: return first.substr(0, first[0] & 0x80 ? 2 : 1) + ". " + last;
    case 3: return pick(rng, {"李娜", "王芳", "佐藤 花子", "김민준"});
    default: return first + " " + last;
  }
}

std::string digits(Rng& rng, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += static_cast<char>('0' + uniform_below(rng, 10));
  return s;
}

std::string phone(Rng& rng) {
  const std::string area = std::to_string(between(rng, 201, 989)), line = "555-" + digits(rng, 4);
  switch (uniform_below(rng, 4)) {
    case 0: return "(" + area + ") " + line;
    case 1: return area + "-" + line;
    case 2: return area + ".555." + line.substr(4);
    default: return "+1 " + area + " 555 " + line.substr(4);
  }
}

std::string address(Rng& rng) {
  const std::string number = std::to_string(between(rng, 1, 999));
  const std::string street = chance(rng, 0.8) ? std::string(pick(rng, {"Elm", "Oak", "Maple", "Main", "Cedar", "Harbor"})) +
                                                    " " + pick(rng, {"Street", "Avenue", "Road", "Lane"})
                                              : pick(rng, {"Bahnhofstraße", "Rue de la Paix", "Calle Mayor"});
  return number + " " + street + ", " +
         pick(rng, {"Springfield", "Boston", "Montréal", "Zürich", "São Paulo", "Kraków", "Reykjavík", "Portland"});
}

struct Patient {
  std::string name, dob, mrn, address;
};

Patient make_patient(uint64_t seed, int64_t p) {
  Rng rng(mix_seed(seed, 6000000 + static_cast<uint64_t>(p)));
  Patient out;
  out.name = person(rng);
  out.dob = date(rng, 1930, 2005);
  out.mrn = (chance(rng, 0.3) ? "00" : "") + digits(rng, 7);
  out.address = address(rng);
  return out;
}

// --- one report -----------------------------------------------------------------

std::string negated_sentence(Rng& rng, const Finding& f) {
  if (chance(rng, 0.3)) return fill(rng, pick(rng, f.negated));
  const std::string n = fill(rng, pick(rng, f.nouns));
  switch (uniform_below(rng, 6)) {
    case 0: return "There is no " + n + ".";
    case 1: return "No evidence of " + n + ".";
    case 2: return "Negative for " + n + ".";
    case 3: return "The study is otherwise unremarkable, without evidence of " + n + ".";
    default: return "No " + n + ".";
  }
}

std::string uncertain_sentence(Rng& rng, const Finding& f) {
  if (chance(rng, 0.2)) return fill(rng, pick(rng, f.uncertain));
  const std::string u = fill(rng, pick(rng, f.uncertain_nouns)), n = fill(rng, pick(rng, f.nouns));
  switch (uniform_below(rng, 7)) {
    case 0: return "Cannot exclude " + u + ".";
    case 1: return capitalize(u) + " cannot be excluded.";
    case 2: return "Cannot rule out " + u + ".";
    case 3: return "Findings may represent " + u + ".";
    case 4: return "Questionable " + n + ".";
    case 5: return "Equivocal " + n + ".";
    default: return "Possible " + n + ".";
  }
}

// Two or three negated findings in one sentence ("No pneumothorax or pleural effusion.").
std::string combined_negation(Rng& rng, const std::vector<size_t>& which) {
  std::string list;
  for (size_t i = 0; i < which.size(); ++i) {
    list += (i == 0 ? "" : i + 1 == which.size() ? " or " : ", ") + fill(rng, pick(rng, kFindings[which[i]].nouns));
  }
  return std::string(pick(rng, {"No ", "There is no ", "No evidence of "})) + list + ".";
}

struct Report {
  std::string text;
  std::vector<std::string> labels;
  std::vector<TextSpan> spans;
};

Report make_report(uint64_t seed, int64_t k, const Patient& pt) {
  Rng rng(mix_seed(seed, 5000000 + static_cast<uint64_t>(k)));
  ReportText t;
  // Header: patient identifiers, each present or not.
  std::vector<std::pair<std::string, std::pair<std::string, const char*>>> header;
  if (chance(rng, 0.85)) header.push_back({pick(rng, {"Patient: ", "Name: ", "Pt: "}), {pt.name, "NAME"}});
  if (chance(rng, 0.7)) header.push_back({pick(rng, {"DOB ", "DOB: ", "Date of birth: "}), {pt.dob, "DATE"}});
  if (chance(rng, 0.7)) header.push_back({pick(rng, {"MRN: ", "MRN# ", "Medical record number "}), {pt.mrn, "ID"}});
  for (size_t i = 0; i < header.size(); ++i) {
    t.add((i ? " | " : "") + header[i].first);  // not ", ": a name may be "Last, First"
    t.phi(header[i].second.first, header[i].second.second);
  }
  if (!header.empty()) t.add("\n");
  t.add(std::string("EXAM: ") + pick(rng, {"Chest radiograph, PA and lateral", "Portable AP chest X-ray",
                                            "CT chest without contrast", "CT chest with contrast",
                                            "Chest X-ray, single view", "CT pulmonary angiogram"}));
  if (chance(rng, 0.5)) {
    t.add(pick(rng, {". Date: ", ", performed ", ". Exam date "}));
    t.phi(date(rng, 2015, 2024), "DATE");
  }
  if (chance(rng, 0.4)) {
    t.add(". Accession ");
    t.phi(chance(rng, 0.5) ? "A" + digits(rng, 8) : "ACC-" + std::to_string(between(rng, 2015, 2024)) + "-" + digits(rng, 6),
          "ID");
  }
  t.add(std::string(".\nINDICATION: ") + pick(rng, {"Shortness of breath.", "Cough and fever.", "Chest pain.",
                                                    "Preoperative evaluation.", "Trauma.", "Hypoxia.", "Weakness."}));

  // Findings: each positive, negated, uncertain or not mentioned (Note [U-Ones]).
  Status status[kNumFindings];
  std::vector<size_t> negated;
  std::vector<std::string> sentences;
  for (size_t f = 0; f < kNumFindings; ++f) {
    const double u = uniform01(rng);
    status[f] = u < 0.2 ? Status::kPositive : u < 0.55 ? Status::kNegated : u < 0.67 ? Status::kUncertain : Status::kAbsent;
    if (status[f] == Status::kPositive) sentences.push_back(fill(rng, pick(rng, kFindings[f].positive)));
    if (status[f] == Status::kUncertain) sentences.push_back(uncertain_sentence(rng, kFindings[f]));
    if (status[f] == Status::kNegated) negated.push_back(f);
  }
  while (!negated.empty()) {
    const size_t take = negated.size() >= 2 && chance(rng, 0.4) ? std::min<size_t>(negated.size(), between(rng, 2, 3)) : 1;
    const std::vector<size_t> group(negated.end() - take, negated.end());
    negated.resize(negated.size() - take);
    sentences.push_back(take == 1 ? negated_sentence(rng, kFindings[group[0]]) : combined_negation(rng, group));
  }
  for (size_t i = sentences.size(); i > 1; --i) std::swap(sentences[i - 1], sentences[uniform_below(rng, i)]);
  if (sentences.empty()) sentences.push_back("The lungs are clear.");
  t.add("\nFINDINGS:");
  for (const std::string& s : sentences) t.add(" " + s);

  std::vector<size_t> listed;
  Report r;
  for (size_t f = 0; f < kNumFindings; ++f) {
    if (status[f] == Status::kPositive || status[f] == Status::kUncertain) {
      listed.push_back(f);
      r.labels.push_back(report_finding_names()[f]);
    }
  }
  t.add("\nIMPRESSION: ");
  if (listed.empty()) {
    t.add(pick(rng, {"No acute cardiopulmonary abnormality.", "Normal chest.", "No acute process."}));
  } else {
    const size_t f = listed[uniform_below(rng, listed.size())];
    const std::string n = fill(rng, pick(rng, kFindings[f].nouns));
    t.add(status[f] == Status::kPositive ? capitalize(n) + pick(rng, {", as described above.", " as above."})
                                         : "Possible " + n + "; clinical correlation recommended.");
  }

  // Footer: who was called, where the patient lives.
  if (chance(rng, 0.5)) {
    t.add(pick(rng, {"\nFindings were discussed with Dr. ", "\nCall Dr. ", "\nReported to Dr. "}));
    t.phi(chance(rng, 0.6) ? std::string(pick(rng, kLast)) : std::string(pick(rng, kFirst)) + " " + pick(rng, kLast),
          "NAME");
    t.add(" at ");
    t.phi(phone(rng), "PHONE");
    if (chance(rng, 0.5)) {
      t.add(" on ");
      t.phi(date(rng, 2015, 2024), "DATE");
    }
    t.add(".");
  }
  if (chance(rng, 0.35)) {
    t.add(pick(rng, {"\nPatient address: ", "\nHome address on file: "}));
    t.phi(pt.address, "ADDRESS");
    t.add(".");
  }
  r.text = t.text();
  r.spans = t.spans();
  return r;
}

void check_options(const ReportOptions& o) {
  const auto bad = [](const std::string& what) { throw DataError("synthetic reports: " + what); };
  if (o.out_dir.empty()) bad("no output folder given");
  if (o.count < 1) bad("count must be >= 1 (got " + std::to_string(o.count) + ")");
  if (o.patients < 1 || o.patients > o.count) {
    bad("patients must be in 1..count=" + std::to_string(o.count) + " (got " + std::to_string(o.patients) + ")");
  }
  if (!(o.val_fraction >= 0 && o.val_fraction < 1)) bad("val fraction must be in [0, 1)");
  if (o.val_fraction > 0 && o.patients < 2) bad("a patient-level val split needs at least 2 patients (got 1)");
}

}  // namespace

const std::vector<std::string>& report_finding_names() {
  static const std::vector<std::string> names = {"pneumothorax", "effusion", "consolidation", "cardiomegaly", "nodule"};
  return names;
}

const std::vector<std::string>& report_phi_labels() {
  static const std::vector<std::string> names = {"NAME", "DATE", "ID", "PHONE", "ADDRESS"};
  return names;
}

ReportSummary write_synthetic_reports(const ReportOptions& o) {
  check_options(o);
  // Val patients: a seeded choice of round(patients * val_fraction), at least one when > 0.
  int64_t n_val = std::llround(static_cast<double>(o.patients) * o.val_fraction);
  if (o.val_fraction > 0) n_val = std::clamp<int64_t>(n_val, 1, o.patients - 1);
  std::vector<int64_t> order(o.patients);
  for (int64_t i = 0; i < o.patients; ++i) order[i] = i;
  Rng split_rng(mix_seed(o.seed, 4));
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[uniform_below(split_rng, i)]);
  std::vector<bool> val(o.patients, false);
  for (int64_t i = 0; i < n_val; ++i) val[order[i]] = true;

  ReportSummary sum;
  sum.path = (fs::path(o.out_dir) / "reports.jsonl").string();
  sum.reports = o.count;
  sum.patients = o.patients;
  sum.val_patients = n_val;
  sum.train_patients = o.patients - n_val;
  sum.label_counts.assign(kNumFindings, 0);
  std::vector<Patient> patients;
  for (int64_t p = 0; p < o.patients; ++p) patients.push_back(make_patient(o.seed, p));

  std::ostringstream out;
  for (int64_t k = 0; k < o.count; ++k) {
    const int64_t p = k % o.patients;
    const Report r = make_report(o.seed, k, patients[p]);
    char id[24], patient[24];
    std::snprintf(id, sizeof(id), "R%05ld", static_cast<long>(k));
    std::snprintf(patient, sizeof(patient), "P%04ld", static_cast<long>(p));
    nlohmann::ordered_json row;
    row["id"] = id;
    row["patient"] = patient;
    row["split"] = val[p] ? "val" : "train";
    row["text"] = r.text;
    row["labels"] = r.labels;
    row["spans"] = nlohmann::ordered_json::array();
    for (const TextSpan& s : r.spans) row["spans"].push_back({{"start", s.start}, {"end", s.end}, {"label", s.label}});
    out << row.dump() << '\n';
    (val[p] ? sum.val_reports : sum.train_reports) += 1;
    sum.spans += static_cast<int64_t>(r.spans.size());
    for (const std::string& l : r.labels) {
      const auto& names = report_finding_names();
      sum.label_counts[std::find(names.begin(), names.end(), l) - names.begin()] += 1;
    }
  }

  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec) throw DataError(io::display_path(o.out_dir) + ": cannot create folder: " + ec.message());
  const std::string tmp = sum.path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << out.str();
    if (!f.flush()) throw DataError(io::display_path(tmp) + ": cannot write reports");
  }
  fs::rename(tmp, sum.path, ec);  // readers never see a half-written manifest
  if (ec) throw DataError(io::display_path(sum.path) + ": cannot write reports: " + ec.message());
  return sum;
}

}  // namespace medtrain::data::text
