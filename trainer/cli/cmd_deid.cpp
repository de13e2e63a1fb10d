// medtrain deid --in DIR --out DIR --key-file K: PS3.15 Annex E de-identification
// with keyed pseudonyms and an audit trail; medtrain deid --verify DIR: the check.
// See docs/deid.md. Output never carries element values: only paths, tags, counts.
#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>
#include <mutex>
#include <optional>

#include "data/data_error.h"
#include "data/deid/audit.h"
#include "data/deid/dicom_file.h"
#include "data/deid/pixel_clean.h"
#include "data/deid/keyed.h"
#include "data/deid/pixel_ocr.h"
#include "data/deid/report_text.h"
#include "data/deid/tree_runner.h"
#include "data/deid/verify.h"
#include "data/io/output_lock.h"
#include "trainer/cli/commands.h"
#include "trainer/export/text_bundle.h"
#include "trainer/export/text_inference.h"
#include "trainer/user_error.h"
#include "trainer/version.h"

namespace fs = std::filesystem;

namespace medtrain::cli {
namespace {

struct DeidFlags {
  std::string in, out, key_file, profile = "basic", verify, on_error = "fail", quarantine;
  std::vector<std::string> options, keep_private;
  bool allow_burned_in = false, allow_encapsulated = false, show_paths = false;
  std::string pixels = "clean", pixel_regions;  // burned-in text: data/deid/pixel_clean.h
  std::string text_model;                       // a PHI tagger bundle for free-text tags
  int jobs = 0;
};

// "gggg,eeee" or "(gggg,eeee)", odd group: one private tag to retain.
uint32_t parse_private_tag(const std::string& text) {
  std::string t = text;
  if (t.size() == 11 && t.front() == '(' && t.back() == ')') t = t.substr(1, 9);
  unsigned g = 0, e = 0;
  char tail = 0;
  if (t.size() != 9 || std::sscanf(t.c_str(), "%4x,%4x%c", &g, &e, &tail) != 2 || (g & 1) == 0) {
    throw UserError(fmt::format("--keep-private {}: expected a private tag gggg,eeee with an odd group, e.g. 0029,1010",
                                text));
  }
  return (g << 16) | e;
}

// The bundle folder and everything in it, as they are: a link anywhere would
// let the model that cleans PHI change under a name the audit trusts.
void refuse_links(const std::string& dir) {
  fs::path root(dir);
  if (!root.has_filename()) root = root.parent_path();  // "bundle/" would follow a link named bundle
  std::error_code ec;
  if (fs::is_symlink(fs::symlink_status(root, ec))) {
    throw UserError(fmt::format("--text-model {}: a symbolic link; name the bundle folder itself", dir));
  }
  if (!fs::is_directory(fs::symlink_status(root, ec))) {
    throw UserError(fmt::format("--text-model {}: not a folder; expected an exported bundle (medtrain export)", dir));
  }
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_symlink(ec)) {
      throw UserError(fmt::format("--text-model {}: {} is a symbolic link; copy the bundle without links", dir,
                                  it->path().lexically_relative(root).generic_string()));
    }
  }
  if (ec) throw UserError(fmt::format("--text-model {}: cannot list it: {}", dir, ec.message()));
}

// --text-model DIR: a token_classification text bundle on the CPU, as the
// tagger of the free text the profile cleans and of reports. The errors of the
// bundle loader name "--model"; here the flag is --text-model.
data::deid::TextTagger load_text_tagger(const std::string& dir, std::string& id) {
  refuse_links(dir);
  auto rename = [](std::string what) {
    if (what.rfind("--model ", 0) == 0) what.replace(0, 7, "--text-model");
    return what;
  };
  auto bundle = std::make_shared<exporter::TextBundle>();
  try {
    *bundle = exporter::load_text_bundle(dir, c10::Device(c10::kCPU));
  } catch (const UserError& e) {
    throw UserError(rename(e.what()));
  }
  if (bundle->card.task != "token_classification") {
    throw UserError(fmt::format("--text-model {}: a {} model; deid needs a token_classification bundle (a PHI tagger "
                                "such as configs/phi_tagger.yaml, exported)",
                                dir, bundle->card.task));
  }
  const auto weights = bundle->card.files.find(exporter::kWeightsFile);
  id = weights != bundle->card.files.end() ? weights->second : dir;
  // Note [One tagger, many workers]: the deid workers share this bundle and
  // call it at once, without a lock. The tokenizer is immutable and documented
  // safe for concurrent encode (data/text/tokenizer.h); the model is in eval
  // mode (dropout off) and tag_text runs it under NoGradGuard (thread-local),
  // so a forward only reads the weights and builds its own tensors: the BERT
  // layers (models/nlu) keep no state between calls. One copy of the weights
  // serves every worker, so memory does not grow with --jobs.
  return [bundle](const std::string& text) {
    std::vector<data::deid::FoundSpan> spans;
    for (auto& s : exporter::tag_text(*bundle, text)) spans.push_back({s.start, s.end, std::move(s.label)});
    return spans;
  };
}

// Each worker's forward would start LibTorch's own intra-op threads, all cores'
// worth, so --jobs workers ran jobs x cores threads. The cores are shared out
// instead (unless OMP_NUM_THREADS says otherwise), as ranks on a node do.
void share_cores_with_workers(int jobs) {
  if (std::getenv("OMP_NUM_THREADS") != nullptr) return;
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  at::set_num_threads(std::max(1, cores / (jobs > 0 ? jobs : cores)));
}

// A report passes when deid --text-model wrote it and it is unchanged since:
// its text cannot be checked for PHI the way a DICOM object's tags can.
std::optional<std::string> check_report_output(const std::string& path, const std::string& rel,
                                               const std::map<std::string, std::string>& reports) {
  const auto it = reports.find(rel);
  if (it == reports.end()) {
    return std::string("a text file that no deid run cleaned (reports reach the output only through --text-model)");
  }
  if (data::deid::sha256_file(path) != it->second) {
    return fmt::format("changed since deid wrote it (its SHA-256 is not the one in {})", data::deid::kAuditFileName);
  }
  return std::nullopt;
}

// Every file below the folder, plus the folder's audit log: a file fails as
// check_deidentified says, a temporary file is an interrupted write, and two
// inputs whose latest "ok" records name one output mean one overwrote the other.
int run_verify(const DeidFlags& f) {
  if (!fs::is_directory(f.verify)) throw UserError(fmt::format("--verify {}: not a folder", f.verify));
  data::deid::VerifyOptions options;
  for (const auto& t : f.keep_private) options.keep_private.insert(parse_private_tag(t));
  long files = 0, bad = 0, audit_problems = 0;
  if (f.pixels != "off") data::deid::check_ocr_available();  // OCR of at-risk outputs (--pixels off skips it)
  const std::string audit = (fs::path(f.verify) / data::deid::kAuditFileName).string();
  std::vector<std::string> shared;
  std::map<std::string, std::string> reports;  // report output -> the SHA-256 deid wrote
  try {
    const auto records = data::deid::read_audit_records(f.verify);
    shared = data::deid::shared_outputs(records);
    reports = data::deid::report_outputs(records);
  } catch (const data::DataError& e) {
    shared.push_back(e.what());
  }
  for (const auto& problem : shared) {
    ++audit_problems;
    fmt::print("{}: {}\n", audit, problem);
  }
  for (const auto& entry : fs::recursive_directory_iterator(f.verify)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    if (name == data::deid::kAuditFileName || name == data::deid::kSummaryFileName || name == data::io::kLockFileName) {
      continue;
    }
    ++files;
    std::optional<std::string> problem;
    const std::string rel = entry.path().lexically_relative(f.verify).generic_string();
    if (data::deid::is_temp_name(name)) {
      problem = "interrupted write: re-run deid on this folder to clean it up";
    } else if (data::deid::is_report_file(entry.path())) {
      problem = check_report_output(entry.path().string(), rel, reports);
    } else {
      problem = data::deid::check_deidentified(entry.path().string(), options);
      if (!problem && f.pixels != "off") problem = data::deid::check_pixel_text(entry.path().string());
    }
    if (problem) {
      ++bad;
      fmt::print("{}: {}\n", entry.path().string(), *problem);
    }
  }
  fmt::print("verify: {} of {} files are not de-identified{}\n", bad, files,
             audit_problems ? fmt::format("; {} problems in {}", audit_problems, data::deid::kAuditFileName) : "");
  return bad == 0 && audit_problems == 0 ? kExitOk : kExitRuntimeError;
}

int run_deid(const DeidFlags& f) {
  if (!f.verify.empty()) return run_verify(f);
  if (f.in.empty() || f.out.empty() || f.key_file.empty()) {
    throw UserError("deid needs --in DIR --out DIR --key-file FILE (or --verify DIR)");
  }
  if (f.profile != "basic") throw UserError(fmt::format("--profile {}: only \"basic\" is implemented", f.profile));
  data::deid::RunOptions o;
  o.in_dir = f.in;
  o.out_dir = f.out;
  o.key_file = f.key_file;
  o.quarantine_dir = f.quarantine;
  o.allow_burned_in = f.allow_burned_in;
  o.allow_encapsulated = f.allow_encapsulated;
  o.pixels.mode = data::deid::parse_pixel_mode(f.pixels);
  if (!f.pixel_regions.empty()) o.pixels.regions = data::deid::RegionRules::load(f.pixel_regions);
  o.show_paths = f.show_paths;
  o.jobs = f.jobs;
  o.skip_bad_files = f.on_error == "skip";
  o.settings.tool_version = kVersion;
  for (const auto& name : f.options) o.settings.options.set(data::deid::parse_option(name));
  for (const auto& t : f.keep_private) o.settings.keep_private.insert(parse_private_tag(t));
  if (!f.text_model.empty()) {
    if (!o.settings.options.has(data::deid::ProfileOption::kCleanDescriptors)) {
      throw UserError(fmt::format("--text-model needs --options {}: without it the profile removes the free-text "
                                  "descriptors, so there is no text to tag",
                                  data::deid::option_flag(data::deid::ProfileOption::kCleanDescriptors)));
    }
    o.settings.text_tagger = load_text_tagger(f.text_model, o.settings.text_tagger_id);
    share_cores_with_workers(f.jobs);
  }
  auto mutex = std::make_shared<std::mutex>();
  o.on_warning = [mutex](const std::string& line) {
    std::lock_guard<std::mutex> lock(*mutex);
    std::fprintf(stderr, "medtrain: warning: %s\n", line.c_str());
  };
  const auto s = data::deid::run_deid(o);
  const double mb = static_cast<double>(s.bytes_in) / 1e6;
  fmt::print("deid: {} files: {} written, {} already done, {} duplicates, {} quarantined, {} DICOMDIR dropped, "
             "{} excluded (burned-in), {} failed; {:.1f} MB in {:.2f} s ({:.1f} files/s)\n",
             s.files, s.written, s.resumed, s.duplicates, s.quarantined, s.dropped_dicomdir, s.excluded_burned_in,
             s.failed, mb, s.seconds, s.seconds > 0 ? static_cast<double>(s.files) / s.seconds : 0.0);
  if (s.reports_cleaned + s.reports_skipped > 0) {
    fmt::print("reports: {} cleaned by --text-model, {} skipped{}\n", s.reports_cleaned, s.reports_skipped,
               s.reports_skipped > 0 ? " (free text is never copied unscrubbed; they are named in the audit as "
                                       "\"skipped_report\")"
                                     : "");
  }
  if (s.temp_files_removed > 0) {
    fmt::print("removed {} temporary files left by an interrupted run\n", s.temp_files_removed);
  }
  if (s.quarantined > 0) fmt::print("quarantine (original, identified data): {}\n", s.quarantine_dir);
  fmt::print("audit {}/{}, summary {}/{}\n", f.out, data::deid::kAuditFileName, f.out, data::deid::kSummaryFileName);
  return kExitOk;
}

}  // namespace

Command add_deid_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("deid", "de-identify a DICOM tree (PS3.15 Annex E basic profile, keyed pseudonyms, audit)");
  auto f = std::make_shared<DeidFlags>();
  cmd->add_option("--in", f->in, "input folder (read only)");
  cmd->add_option("--out", f->out, "output folder (must not be inside --in)");
  cmd->add_option("--key-file", f->key_file, "secret key for pseudonyms and UIDs (mode 600, >= 16 bytes)");
  cmd->add_option("--profile", f->profile, "confidentiality profile")->capture_default_str();
  cmd->add_option("--options", f->options,
                  "long-modified-dates, patient-characteristics, device-identity, clean-descriptors")
      ->delimiter(',');
  cmd->add_option("--keep-private", f->keep_private,
                  "private tags gggg,eeee to retain, space-separated or repeated (default: remove all)");
  cmd->add_flag("--allow-burned-in", f->allow_burned_in,
                "include files with Burned In Annotation = YES (their pixels are OCR-cleaned under --pixels clean)");
  cmd->add_option("--pixels", f->pixels,
                  "images that may carry burned-in text (US, SC, XA/RF, endoscopy, ...): clean = OCR and black out "
                  "PHI, quarantine = set aside unread, off = no check (with --verify: whether to OCR outputs)")
      ->check(CLI::IsMember({"clean", "quarantine", "off"}))
      ->capture_default_str();
  cmd->add_option("--pixel-regions", f->pixel_regions,
                  "YAML rules of fixed boxes to blank per device and image size (e.g. configs/deid/pixel_regions.yaml)");
  cmd->add_flag("--allow-encapsulated", f->allow_encapsulated,
                "pass encapsulated PDF/CDA/STL/OBJ/MTL through the profile instead of quarantining them");
  cmd->add_option("--quarantine", f->quarantine,
                  "folder for the original bytes of inputs that must not reach --out (default: <out>.quarantine; "
                  "never inside --in or --out)");
  cmd->add_flag("--show-paths", f->show_paths,
                "name input files by path in messages (they may hold patient names; default: by input id)");
  cmd->add_option("--jobs", f->jobs, "worker threads (default: all cores)")->check(CLI::Range(1, 1024));
  cmd->add_option("--on-error", f->on_error, "a file that cannot be de-identified: fail the run, or skip it")
      ->check(CLI::IsMember({"fail", "skip"}))
      ->capture_default_str();
  cmd->add_option("--text-model", f->text_model,
                  "an exported PHI tagger (token_classification bundle): after the rule-based scrub, the spans it "
                  "finds in the free text that --options clean-descriptors keeps, and in *.txt reports below --in, "
                  "become [LABEL] (runs on the CPU; without it, reports are skipped, never copied)");
  cmd->add_option("--verify", f->verify, "check a de-identified tree instead; exit 1 if any file fails");
  return {cmd, [f] { return run_deid(*f); }};
}

}  // namespace medtrain::cli
