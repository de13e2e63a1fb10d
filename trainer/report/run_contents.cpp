#include "trainer/report/run_contents.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <ctime>
#include <limits>
#include <set>
#include <stdexcept>

#include "data/io/user_file.h"
#include "trainer/user_error.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace medtrain::report {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kEventPrefix = "events.out.tfevents.";

std::string shown(const fs::path& p) { return data::io::display_path(p.string()); }

void check_is_folder(const fs::path& dir) {
  std::error_code ec;
  const auto status = fs::status(dir, ec);
  if (!fs::exists(status)) throw UserError(fmt::format("report: run folder {} does not exist", shown(dir)));
  if (!fs::is_directory(status)) throw UserError(fmt::format("report: {} is not a folder (expected a run folder)", shown(dir)));
}

bool has_event_files(const fs::path& tb_dir) {
  std::error_code ec;
  if (!fs::is_directory(tb_dir, ec)) return false;
  for (const auto& entry : fs::directory_iterator(tb_dir, ec)) {
    if (entry.path().filename().string().rfind(kEventPrefix, 0) == 0) return true;
  }
  return false;
}

// Anything by that name counts, links not followed: a FIFO, a folder or a
// dangling link named config.yaml is then refused by name when read, not
// taken for a missing file.
bool is_present(const fs::path& p) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(p, ec));
}

// A run file through the guarded reader (data/io/user_file.h: a FIFO, device
// or folder is refused without blocking; a link to a regular file is
// followed), a dangling link named as one ("does not exist" alone would
// puzzle a user whose ls lists the file).
std::string read_run_file(const fs::path& p, const std::string& what, uint64_t max_bytes) {
  std::error_code ec;
  if (fs::is_symlink(fs::symlink_status(p, ec)) && !fs::exists(fs::status(p, ec))) {
    throw UserError(fmt::format("{} {}: a symbolic link to {}, which does not exist", what, shown(p),
                                shown(fs::read_symlink(p, ec))));
  }
  return data::io::read_user_file(p.string(), what, max_bytes);
}

// run.name as the config says it; the folder's own name is the same unless
// the folder was renamed or the config is unreadable.
std::string run_name(const std::string& config_yaml, const fs::path& dir) {
  const std::string folder = fs::absolute(dir).lexically_normal().filename().string();
  try {
    const YAML::Node name = YAML::Load(config_yaml)["run"]["name"];
    if (name && name.IsScalar() && !name.as<std::string>().empty()) return name.as<std::string>();
  } catch (const YAML::Exception&) {
  }
  return folder.empty() ? fs::absolute(dir).parent_path().filename().string() : folder;
}

// Every record of metrics.jsonl. A last line without its newline is what a
// run being written (or killed mid-write) leaves: left out with a note.
std::vector<json> read_records(const fs::path& file, std::vector<std::string>& notes) {
  const std::string text = read_run_file(file, "metrics log", data::io::kMaxManifestBytes);
  std::vector<json> records;
  size_t at = 0;
  for (int64_t line = 1; at < text.size(); ++line) {
    const size_t end = text.find('\n', at);
    const std::string_view body(text.data() + at, (end == std::string::npos ? text.size() : end) - at);
    at = end == std::string::npos ? text.size() : end + 1;
    if (body.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    json record = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
    if (record.is_object()) {
      records.push_back(std::move(record));
    } else if (end == std::string::npos) {
      notes.push_back(fmt::format("metrics.jsonl: line {} is cut short (the run was still writing it); left out", line));
    } else {
      throw UserError(fmt::format("metrics log {} line {}: not a JSON object", shown(file), line));
    }
  }
  return records;
}

// A last record cut short (a run killed mid-write) costs only that record,
// with a note on the page; any other damage stops the report.
std::vector<metrics::EventValue> read_events(const fs::path& tb_dir, std::vector<std::string>& notes) {
  std::error_code ec;
  if (!fs::is_directory(tb_dir, ec)) return {};
  try {
    return metrics::read_event_dir(tb_dir, &notes);
  } catch (const UserError&) {
    throw;
  } catch (const fs::filesystem_error&) {
    throw;
  } catch (const std::runtime_error& e) {
    // A damaged event file is the user's to move aside; the reader names it.
    throw UserError(e.what());
  }
}

std::string format_time(double unix_seconds) {
  if (!std::isfinite(unix_seconds)) return "?";
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return "?";
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buffer;
}

std::string format_value(const std::string& key, const json& v) {
  if (key == "time" && v.is_number()) return format_time(v.get<double>());
  if (v.is_null()) return "nan";  // JsonlWriter writes non-finite values as null
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number()) return fmt::format("{:.6g}", v.get<double>());
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

// step, epoch and time first, then the values by name; "kind" says nothing here.
MetricTable record_table(const std::string& title, const json& record) {
  MetricTable table{fmt::format("{} (step {})", title, record["step"].get<int64_t>()), {}};  // an integer: checked
  for (const char* key : {"step", "epoch", "time"}) {
    if (record.contains(key)) table.rows.emplace_back(key, format_value(key, record[key]));
  }
  for (const auto& [key, value] : record.items()) {
    if (key == "kind" || key == "step" || key == "epoch" || key == "time") continue;
    table.rows.emplace_back(key, format_value(key, value));
  }
  return table;
}

double as_double(const json& v) { return v.is_number() ? v.get<double>() : kNaN; }

bool is_curve_tag(const std::string& tag) {
  return tag == "train/loss" || tag == "train/lr" || tag.rfind("val/", 0) == 0;
}

using StepValues = std::map<std::string, std::map<int64_t, double>>;

std::map<std::string, std::vector<ScalarPoint>> to_curves(const StepValues& by_tag) {
  std::map<std::string, std::vector<ScalarPoint>> curves;
  for (const auto& [tag, by_step] : by_tag) {
    for (const auto& [step, value] : by_step) curves[tag].push_back({step, value});
  }
  return curves;
}

void add_from_records(RunContents& run, const std::vector<json>& records) {
  StepValues by_tag;
  const json* last_train = nullptr;
  const json* last_eval = nullptr;
  for (const json& r : records) {
    const double t = as_double(r.value("time", json()));
    if (std::isfinite(t)) {
      if (!std::isfinite(run.first_time) || t < run.first_time) run.first_time = t;
      if (!std::isfinite(run.last_time) || t > run.last_time) run.last_time = t;
    }
    const std::string kind = r.contains("kind") && r["kind"].is_string() ? r["kind"].get<std::string>() : "";
    const int64_t step = r.contains("step") && r["step"].is_number_integer() ? r["step"].get<int64_t>() : -1;
    if (kind == "train" && step >= 0) {
      last_train = &r;
      by_tag["train/loss"][step] = as_double(r.value("loss", json()));
      by_tag["train/lr"][step] = as_double(r.value("lr", json()));
    } else if (kind == "eval" && step >= 0) {
      last_eval = &r;
      for (const auto& [key, value] : r.items()) {
        if (key.rfind("val/", 0) == 0 && (value.is_number() || value.is_null())) by_tag[key][step] = as_double(value);
      }
    }
  }
  run.curves = to_curves(by_tag);
  if (last_train) run.final_metrics.push_back(record_table("Last training step", *last_train));
  if (last_eval) run.final_metrics.push_back(record_table("Last evaluation", *last_eval));
}

// Without metrics.jsonl: the tables hold each train/ and val/ scalar's value
// at the last step any of them was logged.
MetricTable last_scalars_table(const std::string& title, const std::string& prefix, const StepValues& by_tag) {
  int64_t last = -1;
  for (const auto& [tag, by_step] : by_tag) {
    if (tag.rfind(prefix, 0) == 0 && !by_step.empty()) last = std::max(last, by_step.rbegin()->first);
  }
  MetricTable table{fmt::format("{} (step {})", title, last), {{"step", std::to_string(last)}}};
  for (const auto& [tag, by_step] : by_tag) {
    const auto it = by_step.find(last);
    if (tag.rfind(prefix, 0) == 0 && it != by_step.end()) table.rows.emplace_back(tag, fmt::format("{:.6g}", it->second));
  }
  return table;
}

void add_scalars_from_events(RunContents& run, const std::vector<metrics::EventValue>& values) {
  StepValues by_tag;
  for (const auto& v : values) {
    if (v.kind == metrics::EventValue::Kind::kScalar) by_tag[v.tag][v.step] = v.scalar;
  }
  StepValues curves;
  bool any_train = false, any_val = false;
  for (const auto& [tag, by_step] : by_tag) {
    if (is_curve_tag(tag)) curves[tag] = by_step;
    any_train = any_train || tag.rfind("train/", 0) == 0;
    any_val = any_val || tag.rfind("val/", 0) == 0;
  }
  run.curves = to_curves(curves);
  if (any_train) run.final_metrics.push_back(last_scalars_table("Last training step", "train/", by_tag));
  if (any_val) run.final_metrics.push_back(last_scalars_table("Last evaluation", "val/", by_tag));
}

// The latest value of each key among those `keep` accepts (the later one in
// file order on equal steps), by key.
template <typename Keep, typename Key>
std::vector<metrics::EventValue> latest_per_key(const std::vector<metrics::EventValue>& values, Keep keep, Key key) {
  std::map<std::string, const metrics::EventValue*> latest;
  for (const auto& v : values) {
    if (!keep(v)) continue;
    auto& slot = latest[key(v)];
    if (slot == nullptr || v.step >= slot->step) slot = &v;
  }
  std::vector<metrics::EventValue> out;
  for (const auto& [tag, v] : latest) out.push_back(*v);
  return out;
}

std::string tag_of(const metrics::EventValue& v) { return v.tag; }

// Classification pictures carry their step and labels in the tag
// ("train/batch step 500 (labels: ...)", docs/training.md): one tag per logged
// step. The text before the first space names the series they belong to.
std::string image_series(const metrics::EventValue& v) { return v.tag.substr(0, v.tag.find(' ')); }

bool is_image(const metrics::EventValue& v) { return v.kind == metrics::EventValue::Kind::kImage; }

bool is_pr_curve(const metrics::EventValue& v) {
  return v.kind == metrics::EventValue::Kind::kTensor && v.plugin == "pr_curves";
}

void add_event_times(RunContents& run, const std::vector<metrics::EventValue>& values) {
  for (const auto& v : values) {
    if (!std::isfinite(v.wall_time) || v.wall_time <= 0) continue;
    if (!std::isfinite(run.first_time) || v.wall_time < run.first_time) run.first_time = v.wall_time;
    if (!std::isfinite(run.last_time) || v.wall_time > run.last_time) run.last_time = v.wall_time;
  }
}

}  // namespace

RunContents load_run_contents(const fs::path& dir) {
  check_is_folder(dir);
  const fs::path config = dir / "config.yaml", jsonl = dir / "metrics.jsonl", tb = dir / "tensorboard";
  const bool has_config = is_present(config), has_jsonl = is_present(jsonl), has_events = has_event_files(tb);
  if (!has_config && !has_jsonl && !has_events) {
    throw UserError(fmt::format("report: {} is not a run folder (no config.yaml, metrics.jsonl or tensorboard/ event "
                                "files); name the folder run.output_dir/run.name of a training run",
                                shown(dir)));
  }
  RunContents run;
  run.dir = dir;
  run.first_time = run.last_time = kNaN;
  if (has_config) run.config_yaml = read_run_file(config, "config", data::io::kMaxConfigBytes);
  run.name = run_name(run.config_yaml, dir);
  const std::vector<json> records = has_jsonl ? read_records(jsonl, run.notes) : std::vector<json>{};
  const std::vector<metrics::EventValue> values = read_events(tb, run.notes);
  if (records.empty() && values.empty()) {
    throw UserError(fmt::format("report: run folder {} has no events (metrics.jsonl is {} and tensorboard/ holds no "
                                "event values); did the run log its first step?",
                                shown(dir), has_jsonl ? "empty" : "missing"));
  }
  if (!records.empty()) {
    add_from_records(run, records);
  } else {
    run.notes.push_back("no metrics.jsonl records: curves and final metrics come from the TensorBoard event files");
    add_scalars_from_events(run, values);
    add_event_times(run, values);
  }
  run.images = latest_per_key(values, is_image, image_series);
  for (const auto& v : latest_per_key(values, is_pr_curve, tag_of)) {
    const bool shaped = v.shape.size() == 2 && v.shape[0] == 6 && v.shape[1] >= 2 &&
                        static_cast<int64_t>(v.floats.size()) == 6 * v.shape[1];
    if (shaped) {
      run.pr_curves.push_back(v);
    } else {
      run.notes.push_back(fmt::format("PR curve {} at step {} is not a [6, N] float tensor; left out", v.tag, v.step));
    }
  }
  return run;
}

std::string format_unix_time(double unix_seconds) { return format_time(unix_seconds); }

}  // namespace medtrain::report
