#include "data/deid/tree_runner.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <thread>

#include "data/data_error.h"
#include "data/deid/audit.h"
#include "data/deid/bounded_queue.h"
#include "data/deid/dicom_file.h"
#include "data/deid/key_file.h"
#include "data/deid/keyed.h"
#include "data/deid/pixel_ocr.h"
#include "data/deid/report_text.h"
#include "data/dicom/dicom_codecs.h"
#include "data/io/output_lock.h"
#include "data/io/user_file.h"

namespace fs = std::filesystem;

namespace medtrain::data::deid {
namespace {

constexpr const char* kDicomdirClass = "1.2.840.10008.1.3.10";
// Encapsulated PDF, CDA, STL, OBJ, MTL: 1.2.840.10008.5.1.4.1.1.104.1 to .5.
constexpr const char* kEncapsulatedPrefix = "1.2.840.10008.5.1.4.1.1.104.";
constexpr const char* kQuarantineLog = "quarantine.jsonl";

// A problem with the output folder (a link, a full disk): it ends the run
// whatever --on-error says, since every later file would meet it too.
struct OutputFailure : DataError {
  using DataError::DataError;
};

bool inside(const fs::path& child, const fs::path& parent) {
  auto c = child.begin(), p = parent.begin();
  for (; p != parent.end(); ++p, ++c) {
    if (c == child.end() || *c != *p) return false;
  }
  return true;
}

void refuse_nesting(const fs::path& a, const std::string& a_flag, const std::string& a_dir, const fs::path& b,
                    const std::string& b_flag, const std::string& b_dir) {
  if (inside(a, b)) {
    throw DataError(fmt::format("{} {} is inside {} {}; choose folders outside each other", a_flag,
                                io::display_path(a_dir), b_flag, io::display_path(b_dir)));
  }
}

void check_folders(const RunOptions& o, const std::string& quarantine) {
  if (!fs::is_directory(o.in_dir)) throw DataError(fmt::format("--in {}: not a folder", io::display_path(o.in_dir)));
  const fs::path in = fs::weakly_canonical(o.in_dir), out = fs::weakly_canonical(o.out_dir),
                 q = fs::weakly_canonical(quarantine);
  if (inside(out, in)) {
    throw DataError(fmt::format("--out {} is inside --in {}; choose an output folder outside the input tree",
                                io::display_path(o.out_dir), io::display_path(o.in_dir)));
  }
  if (inside(in, out)) {
    throw DataError(fmt::format("--in {} is inside --out {}; choose an output folder outside the input tree",
                                io::display_path(o.in_dir), io::display_path(o.out_dir)));
  }
  // The quarantine holds original, identified bytes: never within the research output.
  refuse_nesting(q, "--quarantine", quarantine, out, "--out", o.out_dir);
  refuse_nesting(out, "--out", o.out_dir, q, "--quarantine", quarantine);
  refuse_nesting(q, "--quarantine", quarantine, in, "--in", o.in_dir);
  refuse_nesting(in, "--in", o.in_dir, q, "--quarantine", quarantine);
}

std::string or_unknown(const std::string& s) { return s.empty() ? "unknown" : s; }

nlohmann::json option_list(const ProfileOptions& options) {
  auto list = nlohmann::json::array();
  for (int i = 0; i < kOptionCount; ++i) {
    if (options.enabled[i]) list.push_back(option_flag(static_cast<ProfileOption>(i)));
  }
  return list;
}

bool named_dicomdir(const fs::path& path) {
  std::string name = path.filename().string();
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name == "DICOMDIR";
}

// Media Storage SOP Class UID from the meta header, else the SOP Class UID.
std::string storage_class(DcmFileFormat& file) {
  OFString uid;
  if (file.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPClassUID, uid).good() && !uid.empty()) {
    return uid.c_str();
  }
  file.getDataset()->findAndGetOFString(DCM_SOPClassUID, uid);
  return uid.c_str();
}

class Runner {
 public:
  // Order matters: the key is checked before anything is created; the lock is
  // held before temporaries are swept (so no live writer's file is removed) and
  // before the audit is opened.
  explicit Runner(const RunOptions& o)
      : o_(o),
        keyed_(read_key_file(o.key_file)),
        quarantine_dir_(quarantine_folder(o)),
        lock_(o.out_dir, "deid"),
        temps_removed_(remove_stale_temps(o.out_dir)),
        audit_(o.out_dir) {
    prior_ = load_prior_records(o.out_dir);
    // Outputs earlier runs wrote belong to their inputs (Note [One output, one input]).
    for (const auto& [id, p] : prior_) claims_.emplace(p.output, Claim{id, p.input_sha256, false});
    // Note [Resume under the same settings]: an output made with another key or other
    // options is not this run's output, however intact; the id says which settings.
    std::string settings = "basic";
    for (const auto& opt : option_list(o.settings.options)) settings += "," + opt.get<std::string>();
    for (uint32_t t : o.settings.keep_private) settings += fmt::format(";{:08X}", t);
    settings += fmt::format(";pixels={};regions={}", pixel_mode_name(o.pixels.mode), o.pixels.regions.source);
    if (o.settings.text_tagger) settings += ";text_model=" + o.settings.text_tagger_id;  // absent: ids as before
    settings_id_ = keyed_.path_id(std::string("\0settings\0", 10) + settings);  // no path holds a NUL
  }

  RunSummary run() {
    const auto start = std::chrono::steady_clock::now();
    const int jobs = o_.jobs > 0 ? o_.jobs : std::max(1u, std::thread::hardware_concurrency());
    BoundedQueue<fs::path> queue(static_cast<size_t>(4 * jobs));
    std::vector<std::thread> workers;
    for (int i = 0; i < jobs; ++i) {
      workers.emplace_back([&] {
        while (auto path = queue.pop()) {
          if (!stop_) process_safely(*path);
        }
      });
    }
    try {
      for (auto it = fs::recursive_directory_iterator(o_.in_dir); it != fs::recursive_directory_iterator() && !stop_;
           ++it) {
        if (it->is_regular_file()) queue.push(it->path());
      }
    } catch (const fs::filesystem_error& e) {
      queue.close();
      for (auto& w : workers) w.join();
      throw DataError(fmt::format("cannot walk --in {}: {}", io::display_path(o_.in_dir), e.code().message()));
    } catch (...) {
      queue.close();
      for (auto& w : workers) w.join();
      throw;
    }
    queue.close();
    for (auto& w : workers) w.join();
    if (stop_) throw DataError(first_error_);
    const auto sync_start = std::chrono::steady_clock::now();
    sync_filesystem(o_.out_dir);  // Note [Durable at the end] in dicom_file.h
    if (quarantine_lock_) sync_filesystem(quarantine_dir_);
    RunSummary s;
    s.sync_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - sync_start).count();
    s.files = summary_.files;
    s.written = summary_.written;
    s.resumed = summary_.resumed;
    s.duplicates = summary_.duplicates;
    s.quarantined = summary_.quarantined;
    s.dropped_dicomdir = summary_.dropped_dicomdir;
    s.excluded_burned_in = summary_.excluded_burned_in;
    s.failed = summary_.failed;
    s.reports_cleaned = summary_.reports_cleaned;
    s.reports_skipped = summary_.reports_skipped;
    s.temp_files_removed = temps_removed_ + summary_.temps_removed_in_quarantine;
    s.bytes_in = summary_.bytes_in;
    s.bytes_out = summary_.bytes_out;
    s.quarantine_dir = quarantine_lock_ ? quarantine_dir_ : "";
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return s;
  }

 private:
  struct Claim {
    std::string input_id, input_sha256;
    bool this_run = false;  // false: named by an earlier run's "ok" record
  };
  enum class Verdict { kWrite, kDuplicate, kCollision };

  // How a file is named in messages: its keyed id (input paths often hold names),
  // or its path on a console cleared for it (--show-paths).
  std::string shown(const fs::path& path, const nlohmann::json& rec) const {
    if (o_.show_paths) return io::display_path(path.string());
    return fmt::format("input {} (see {})", rec["input_id"].get<std::string>(), kAuditFileName);
  }

  void warn(const std::string& line) const {
    if (o_.on_warning) o_.on_warning(line);
  }

  void process_safely(const fs::path& path) {
    const std::string rel = fs::relative(path, o_.in_dir).generic_string();
    nlohmann::json rec = {{"input_id", keyed_.path_id(rel)}, {"settings_id", settings_id_}, {"profile", "basic"},
                          {"options", option_list(o_.settings.options)}, {"tool_version", o_.settings.tool_version}};
    try {
      process(path, rec);
    } catch (const OutputFailure& e) {
      stop_with(e.what());
    } catch (const std::exception& e) {
      try {
        fail(path, e.what(), rec);
      } catch (const std::exception& audit_error) {  // the audit itself cannot be written
        stop_with(audit_error.what());
      }
    }
  }

  void stop_with(const std::string& line) {
    std::lock_guard<std::mutex> lock(error_mutex_);
    if (!stop_.exchange(true)) first_error_ = line;
  }

  void fail(const fs::path& path, const std::string& reason, nlohmann::json& rec) {
    ++summary_.failed;
    rec["status"] = "failed";
    rec["error"] = reason;  // reasons name no values; the path is kept out of the audit
    audit_.append(rec);
    const std::string line = fmt::format("{}: {}", shown(path, rec), reason);
    if (!o_.skip_bad_files) {
      stop_with(line + " (use --on-error skip to skip such files)");
    } else {
      warn("skipped " + line);
    }
  }

  void process(const fs::path& path, nlohmann::json& rec) {
    ++summary_.files;
    const std::string bytes = read_file_bytes(path.string());
    const std::string in_sha = sha256_bytes(bytes.data(), bytes.size());
    const std::string id = rec["input_id"];
    rec["input_sha256"] = in_sha;
    summary_.bytes_in += static_cast<long long>(bytes.size());
    if (named_dicomdir(path)) return drop_dicomdir(path, rec);
    if (resumable(id, in_sha)) {
      ++summary_.resumed;
      return;
    }
    if (is_report_file(path)) return process_report(path, bytes, rec);
    DcmFileFormat file;
    if (auto problem = parse_dicom(bytes, file)) throw DataError(*problem);
    const std::string sop_class = storage_class(file);
    if (sop_class == kDicomdirClass) return drop_dicomdir(path, rec);
    if (sop_class.rfind(kEncapsulatedPrefix, 0) == 0) {
      if (!o_.allow_encapsulated) {
        return quarantine(path, bytes, rec,
                          "an encapsulated document (PDF, CDA, STL, OBJ or MTL): text and scans inside it cannot be "
                          "cleaned (--allow-encapsulated passes it through the profile)");
      }
      rec["encapsulated_document"] = "allowed by --allow-encapsulated";
    }
    OFString burned;
    file.getDataset()->findAndGetOFString(DCM_BurnedInAnnotation, burned);
    if (burned == "YES") {
      rec["burned_in_annotation"] = o_.allow_burned_in ? "YES, allowed by --allow-burned-in" : "YES, excluded";
      if (!o_.allow_burned_in) {
        ++summary_.excluded_burned_in;
        rec["status"] = "excluded_burned_in";
        audit_.append(rec);
        warn(fmt::format("excluded {}: Burned In Annotation (0028,0301) is YES (--allow-burned-in to include)",
                         shown(path, rec)));
        return;
      }
    }
    // pixel PHI check goes here: before deidentify(), whose input values it looks for.
    const PixelOutcome pixels = clean_pixels(file, o_.pixels);
    rec["pixels"] = pixels.record;
    if (pixels.status == "quarantined") return quarantine(path, bytes, rec, pixels.reason);
    const DeidResult r = deidentify(file, Profile::basic(), keyed_, o_.settings);
    mark_pixels_cleaned(*file.getDataset(), pixels);
    const std::string sop = r.sop_instance_uid.empty() ? id : r.sop_instance_uid;
    const std::string out_rel = fmt::format("{}/{}/{}/{}.dcm", r.pseudonym, or_unknown(r.study_uid),
                                            or_unknown(r.series_uid), sop);
    std::string other;
    switch (claim(out_rel, id, in_sha, other)) {
      case Verdict::kDuplicate:
        ++summary_.duplicates;
        rec["status"] = "duplicate";
        rec["duplicate_of"] = other;
        rec["output"] = out_rel;
        audit_.append(rec);
        return;
      case Verdict::kCollision:
        rec["collides_with"] = other;
        return quarantine(path, bytes, rec,
                          fmt::format("its SOP Instance UID is also that of input {}, whose content differs: two "
                                      "objects claim one UID (resolve it at the source)",
                                      other));
      case Verdict::kWrite:
        break;
    }
    try {
      rec["output_sha256"] = save_atomic(file, o_.out_dir, out_rel);
    } catch (const DataError& e) {
      throw OutputFailure(e.what());
    }
    summary_.bytes_out += static_cast<long long>(fs::file_size(fs::path(o_.out_dir) / out_rel));
    ++summary_.written;
    rec["status"] = "ok";
    rec["output"] = out_rel;
    rec["pseudonym"] = r.pseudonym;
    rec["actions"] = r.actions;
    rec["private_removed"] = r.private_removed;
    rec["dates_shifted"] = r.dates_shifted;
    rec["invalid_dates_removed"] = r.bad_dates_removed;
    if (o_.settings.text_tagger) {  // tags, offsets, labels: never the text
      auto spans = nlohmann::json::array();
      for (const auto& t : r.text_replacements) {
        spans.push_back({{"tag", t.tag}, {"start", t.start}, {"end", t.end}, {"label", t.label}});
      }
      rec["text_model"] = std::move(spans);
      if (!r.text_fitted.empty()) rec["text_model_fitted"] = r.text_fitted;
    }
    audit_.append(rec);
  }

  // A free-text report (report_text.h): cleaned by the tagger into
  // reports/<input id>.txt, or, with no tagger, skipped and said so: free text
  // never reaches --out unscrubbed.
  void process_report(const fs::path& path, const std::string& bytes, nlohmann::json& rec) {
    rec["kind"] = "report";
    if (!o_.settings.text_tagger) {
      ++summary_.reports_skipped;
      rec["status"] = "skipped_report";
      audit_.append(rec);
      warn(fmt::format("skipped report {}: free text is never copied unscrubbed (--text-model BUNDLE cleans reports)",
                       shown(path, rec)));
      return;
    }
    if (bytes.size() > kMaxReportBytes) {
      throw DataError(fmt::format("a report of {} bytes: reports may have at most {} KiB (one report per file)",
                                  bytes.size(), kMaxReportBytes >> 10));
    }
    if (auto problem = invalid_utf8_in_report(bytes)) throw DataError(*problem);
    const CleanedReport cleaned = clean_report(bytes, o_.settings.text_tagger);
    const std::string id = rec["input_id"];
    const std::string out_rel = fmt::format("{}/{}.txt", kReportsFolder, id);
    std::string other;
    if (claim(out_rel, id, rec["input_sha256"].get<std::string>(), other) != Verdict::kWrite) {  // names are per input: never
      throw OutputFailure(fmt::format("output {} is claimed by input {}", out_rel, other));
    }
    try {
      write_bytes_atomic(o_.out_dir, out_rel, cleaned.text);
    } catch (const DataError& e) {
      throw OutputFailure(e.what());
    }
    summary_.bytes_out += static_cast<long long>(cleaned.text.size());
    ++summary_.written;
    ++summary_.reports_cleaned;
    rec["status"] = "ok";
    rec["output"] = out_rel;
    rec["output_sha256"] = sha256_bytes(cleaned.text.data(), cleaned.text.size());
    auto spans = nlohmann::json::array();  // lines, offsets, labels: never the text
    for (const auto& t : cleaned.replacements) {
      spans.push_back({{"line", t.line}, {"start", t.start}, {"end", t.end}, {"label", t.label}});
    }
    rec["text_model"] = std::move(spans);
    audit_.append(rec);
  }

  // Note [One output, one input]: an output path belongs to the first input that
  // claims it (in this run, or in an earlier run's "ok" record). A later input
  // with the same bytes is a duplicate (nothing written); one with other bytes
  // but the same new name (its SOP Instance UID) is a collision. Claims are
  // taken under one mutex before any write, so two workers never write one path.
  Verdict claim(const std::string& out_rel, const std::string& id, const std::string& in_sha, std::string& other) {
    std::lock_guard<std::mutex> lock(claims_mutex_);
    auto [it, fresh] = claims_.try_emplace(out_rel, Claim{id, in_sha, true});
    Claim& c = it->second;
    if (fresh || c.input_id == id) {
      c = {id, in_sha, true};
      return Verdict::kWrite;
    }
    other = c.input_id;
    if (c.input_sha256 != in_sha) return Verdict::kCollision;
    if (c.this_run || prior_output_current(c.input_id)) return Verdict::kDuplicate;
    c = {id, in_sha, true};  // an earlier run's output that is stale: this input rewrites it
    return Verdict::kWrite;
  }

  void drop_dicomdir(const fs::path& path, nlohmann::json& rec) {
    ++summary_.dropped_dicomdir;
    rec["status"] = "dropped_dicomdir";
    audit_.append(rec);
    warn(fmt::format("dropped {}: a DICOMDIR names the original files, not the new ones (rebuild one over the output "
                     "if needed)",
                     shown(path, rec)));
  }

  // Copies the ORIGINAL bytes of an input that must not reach the research
  // output to <quarantine>/<input id>.dcm and records why (status
  // "quarantined", "reason"); <quarantine>/quarantine.jsonl also names its input
  // path, as that folder holds identified data anyway. The quarantine folder is
  // locked and swept of temporaries on first use. Thread-safe.
  void quarantine(const fs::path& path, const std::string& bytes, nlohmann::json& rec, const std::string& reason) {
    const std::string id = rec["input_id"];
    const std::string rel = fs::relative(path, o_.in_dir).generic_string();
    try {
      open_quarantine();
      write_bytes_atomic(quarantine_dir_, id + ".dcm", bytes);
      quarantine_log_->append({{"input_id", id}, {"input_path", rel}, {"input_sha256", rec["input_sha256"]},
                               {"reason", reason}});
    } catch (const DataError& e) {
      throw OutputFailure(e.what());
    }
    ++summary_.quarantined;
    rec["status"] = "quarantined";
    rec["reason"] = reason;
    audit_.append(rec);
    warn(fmt::format("quarantined {}: {}", shown(path, rec), reason));
  }

  void open_quarantine() {
    std::lock_guard<std::mutex> lock(quarantine_mutex_);
    if (quarantine_lock_) return;
    auto held = std::make_unique<io::OutputLock>(quarantine_dir_, "deid");
    summary_.temps_removed_in_quarantine += remove_stale_temps(quarantine_dir_);
    quarantine_log_ = std::make_unique<AuditLog>(quarantine_dir_, kQuarantineLog);
    quarantine_lock_ = std::move(held);
  }

  // An earlier run's output of `id` is there, intact, made under these settings.
  bool prior_output_current(const std::string& id) const {
    auto it = prior_.find(id);
    if (it == prior_.end() || it->second.settings_id != settings_id_) return false;
    const fs::path out = fs::path(o_.out_dir) / it->second.output;
    std::error_code ec;
    if (!fs::is_regular_file(fs::symlink_status(out, ec)) || ec) return false;
    return sha256_file(out.string()) == it->second.output_sha256;
  }

  bool resumable(const std::string& id, const std::string& in_sha) {
    auto it = prior_.find(id);
    if (it == prior_.end() || it->second.input_sha256 != in_sha || !prior_output_current(id)) return false;
    std::lock_guard<std::mutex> lock(claims_mutex_);
    auto claim = claims_.find(it->second.output);
    if (claim == claims_.end() || claim->second.input_id != id) return false;  // another input's now
    claim->second.this_run = true;
    return true;
  }

  const RunOptions& o_;
  Pseudonymizer keyed_;  // first: a bad key file is reported before anything is created
  std::string quarantine_dir_;
  io::OutputLock lock_;
  long temps_removed_ = 0;
  AuditLog audit_;
  std::map<std::string, PriorRecord> prior_;
  std::string settings_id_;
  std::mutex claims_mutex_;
  std::map<std::string, Claim> claims_;  // output path (relative) -> its input
  std::mutex quarantine_mutex_;
  std::unique_ptr<io::OutputLock> quarantine_lock_;
  std::unique_ptr<AuditLog> quarantine_log_;
  struct Counters {  // updated by all workers
    std::atomic<long> files{0}, written{0}, resumed{0}, duplicates{0}, quarantined{0}, dropped_dicomdir{0},
        excluded_burned_in{0}, failed{0}, temps_removed_in_quarantine{0}, reports_cleaned{0}, reports_skipped{0};
    std::atomic<long long> bytes_in{0}, bytes_out{0};
  };
  Counters summary_;
  std::atomic<bool> stop_{false};
  std::mutex error_mutex_;
  std::string first_error_;
};

}  // namespace

std::string quarantine_folder(const RunOptions& o) {
  if (!o.quarantine_dir.empty()) return o.quarantine_dir;
  fs::path out = fs::path(o.out_dir).lexically_normal();
  if (out.filename().empty()) out = out.parent_path();  // "out/" -> "out"
  return out.string() + ".quarantine";
}

nlohmann::json RunSummary::to_json() const {
  return {{"files", files},
          {"written", written},
          {"resumed", resumed},
          {"duplicates", duplicates},
          {"quarantined", quarantined},
          {"dropped_dicomdir", dropped_dicomdir},
          {"excluded_burned_in", excluded_burned_in},
          {"failed", failed},
          {"reports_cleaned", reports_cleaned},
          {"reports_skipped", reports_skipped},
          {"temp_files_removed", temp_files_removed},
          {"bytes_in", bytes_in},
          {"bytes_out", bytes_out},
          {"seconds", seconds},
          {"sync_seconds", sync_seconds}};
}

RunSummary run_deid(const RunOptions& options) {
  register_dicom_codecs();  // also silences DCMTK's stderr logger: problems come back as reasons
  check_folders(options, quarantine_folder(options));
  // A missing OCR engine is reported before anything is written (before --out exists).
  if (options.pixels.mode == PixelMode::kClean) check_ocr_available();
  if (options.pixels.mode == PixelMode::kOff && options.on_warning) {
    options.on_warning("pixel PHI check is off: images with burned-in text may leak");
  }
  Runner runner(options);  // holds the lock on --out until the summary is written
  RunSummary s = runner.run();
  write_bytes_atomic(options.out_dir, kSummaryFileName, s.to_json().dump(2) + "\n");
  return s;
}

}  // namespace medtrain::data::deid
