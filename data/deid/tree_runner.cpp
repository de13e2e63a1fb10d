#include "data/deid/tree_runner.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "data/data_error.h"
#include "data/dicom_codecs.h"
#include "data/deid/audit.h"
#include "data/deid/bounded_queue.h"
#include "data/deid/dicom_file.h"
#include "data/deid/key_file.h"
#include "data/deid/keyed.h"

namespace fs = std::filesystem;

namespace medtrain::data::deid {
namespace {

bool inside(const fs::path& child, const fs::path& parent) {
  auto c = child.begin(), p = parent.begin();
  for (; p != parent.end(); ++p, ++c) {
    if (c == child.end() || *c != *p) return false;
  }
  return true;
}

void check_folders(const RunOptions& o) {
  if (!fs::is_directory(o.in_dir)) throw DataError(fmt::format("--in {}: not a folder", o.in_dir));
  const fs::path in = fs::weakly_canonical(o.in_dir), out = fs::weakly_canonical(o.out_dir);
  if (inside(out, in)) {
    throw DataError(fmt::format("--out {} is inside --in {}; choose an output folder outside the input tree", o.out_dir,
                                o.in_dir));
  }
  if (inside(in, out)) {
    throw DataError(fmt::format("--in {} is inside --out {}; choose an output folder outside the input tree", o.in_dir,
                                o.out_dir));
  }
}

std::string or_unknown(const std::string& s) { return s.empty() ? "unknown" : s; }

nlohmann::json option_list(const ProfileOptions& options) {
  auto list = nlohmann::json::array();
  for (int i = 0; i < kOptionCount; ++i) {
    if (options.enabled[i]) list.push_back(option_flag(static_cast<ProfileOption>(i)));
  }
  return list;
}

class Runner {
 public:
  explicit Runner(const RunOptions& o)
      : o_(o), keyed_(read_key_file(o.key_file)), audit_path_(make_out_dir(o.out_dir)), audit_(audit_path_) {
    prior_ = load_prior_records(audit_path_);
    // Note [Resume under the same settings]: an output made with another key or other
    // options is not this run's output, however intact; the id says which settings.
    std::string settings = "basic";
    for (const auto& o : option_list(o.settings.options)) settings += "," + o.get<std::string>();
    for (uint32_t t : o.settings.keep_private) settings += fmt::format(";{:08X}", t);
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
      for (auto it = fs::recursive_directory_iterator(o_.in_dir); it != fs::recursive_directory_iterator() && !stop_; ++it) {
        if (it->is_regular_file()) queue.push(it->path());
      }
    } catch (const fs::filesystem_error& e) {
      queue.close();
      for (auto& w : workers) w.join();
      throw DataError(fmt::format("cannot walk --in {}: {}", o_.in_dir, e.what()));
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
    RunSummary s;
    s.sync_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - sync_start).count();
    s.files = summary_.files;
    s.written = summary_.written;
    s.resumed = summary_.resumed;
    s.excluded_burned_in = summary_.excluded_burned_in;
    s.failed = summary_.failed;
    s.bytes_in = summary_.bytes_in;
    s.bytes_out = summary_.bytes_out;
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return s;
  }

 private:
  void process_safely(const fs::path& path) {
    const std::string rel = fs::relative(path, o_.in_dir).generic_string();
    nlohmann::json rec = {{"input_id", keyed_.path_id(rel)}, {"settings_id", settings_id_}, {"profile", "basic"},
                          {"options", option_list(o_.settings.options)}, {"tool_version", o_.settings.tool_version}};
    try {
      process(path, rec);
    } catch (const std::exception& e) {
      fail(path, e.what(), rec);
    }
  }

  void fail(const fs::path& path, const std::string& reason, nlohmann::json& rec) {
    ++summary_.failed;
    rec["status"] = "failed";
    rec["error"] = reason;  // reasons name no values; the path is kept out of the audit
    audit_.append(rec);
    const std::string line = fmt::format("{}: {}", path.string(), reason);
    if (!o_.skip_bad_files) {
      std::lock_guard<std::mutex> lock(error_mutex_);
      if (!stop_.exchange(true)) first_error_ = line + " (use --on-error skip to skip such files)";
    } else if (o_.on_warning) {
      o_.on_warning("skipped " + line);
    }
  }

  void process(const fs::path& path, nlohmann::json& rec) {
    ++summary_.files;
    const std::string bytes = read_file_bytes(path.string());
    const std::string in_sha = sha256_bytes(bytes.data(), bytes.size());
    rec["input_sha256"] = in_sha;
    summary_.bytes_in += static_cast<long long>(bytes.size());
    if (resumable(rec["input_id"], in_sha)) {
      ++summary_.resumed;
      return;
    }
    DcmFileFormat file;
    if (auto problem = parse_dicom(bytes, file)) throw DataError(*problem);
    OFString burned;
    file.getDataset()->findAndGetOFString(DCM_BurnedInAnnotation, burned);
    if (burned == "YES") {
      rec["burned_in_annotation"] = o_.allow_burned_in ? "YES, allowed by --allow-burned-in" : "YES, excluded";
      if (!o_.allow_burned_in) {
        ++summary_.excluded_burned_in;
        rec["status"] = "excluded_burned_in";
        audit_.append(rec);
        if (o_.on_warning) {
          o_.on_warning(fmt::format("excluded {}: Burned In Annotation (0028,0301) is YES (--allow-burned-in to include)",
                                    path.string()));
        }
        return;
      }
    }
    const DeidResult r = deidentify(file, Profile::basic(), keyed_, o_.settings);
    const std::string sop = r.sop_instance_uid.empty() ? rec["input_id"].get<std::string>() : r.sop_instance_uid;
    const std::string out_rel = fmt::format("{}/{}/{}/{}.dcm", r.pseudonym, or_unknown(r.study_uid),
                                            or_unknown(r.series_uid), sop);
    const std::string out_path = (fs::path(o_.out_dir) / out_rel).string();
    rec["output_sha256"] = save_atomic(file, out_path);
    summary_.bytes_out += static_cast<long long>(fs::file_size(out_path));
    ++summary_.written;
    rec["status"] = "ok";
    rec["output"] = out_rel;
    rec["pseudonym"] = r.pseudonym;
    rec["actions"] = r.actions;
    rec["private_removed"] = r.private_removed;
    rec["dates_shifted"] = r.dates_shifted;
    rec["invalid_dates_removed"] = r.bad_dates_removed;
    audit_.append(rec);
  }

  bool resumable(const std::string& id, const std::string& in_sha) const {
    auto it = prior_.find(id);
    if (it == prior_.end() || it->second.input_sha256 != in_sha || it->second.settings_id != settings_id_) return false;
    const fs::path out = fs::path(o_.out_dir) / it->second.output;
    std::error_code ec;
    if (!fs::is_regular_file(out, ec)) return false;
    return sha256_file(out.string()) == it->second.output_sha256;
  }

  static std::string make_out_dir(const std::string& dir) {
    fs::create_directories(dir);
    return (fs::path(dir) / kAuditFileName).string();
  }

  const RunOptions& o_;
  Pseudonymizer keyed_;  // first: a bad key file is reported before anything is created
  std::string audit_path_;
  AuditLog audit_;
  std::map<std::string, PriorRecord> prior_;
  std::string settings_id_;
  struct Counters {  // updated by all workers
    std::atomic<long> files{0}, written{0}, resumed{0}, excluded_burned_in{0}, failed{0};
    std::atomic<long long> bytes_in{0}, bytes_out{0};
  };
  Counters summary_;
  std::atomic<bool> stop_{false};
  std::mutex error_mutex_;
  std::string first_error_;
};

}  // namespace

nlohmann::json RunSummary::to_json() const {
  return {{"files", files}, {"written", written}, {"resumed", resumed}, {"excluded_burned_in", excluded_burned_in},
          {"failed", failed}, {"bytes_in", bytes_in}, {"bytes_out", bytes_out}, {"seconds", seconds},
          {"sync_seconds", sync_seconds}};
}

RunSummary run_deid(const RunOptions& options) {
  register_dicom_codecs();  // also silences DCMTK's stderr logger: problems come back as reasons
  check_folders(options);
  Runner runner(options);
  RunSummary s = runner.run();
  std::ofstream out(fs::path(options.out_dir) / kSummaryFileName);
  out << s.to_json().dump(2) << "\n";
  if (!out) throw DataError(fmt::format("cannot write {}", (fs::path(options.out_dir) / kSummaryFileName).string()));
  return s;
}

}  // namespace medtrain::data::deid
