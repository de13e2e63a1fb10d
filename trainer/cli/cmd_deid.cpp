// medtrain deid --in DIR --out DIR --key-file K: PS3.15 Annex E de-identification
// with keyed pseudonyms and an audit trail; medtrain deid --verify DIR: the check.
// See docs/deid.md. Output never carries element values: only paths, tags, counts.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>

#include "data/deid/audit.h"
#include "data/deid/tree_runner.h"
#include "data/deid/verify.h"
#include "trainer/cli/commands.h"
#include "trainer/user_error.h"
#include "trainer/version.h"

namespace fs = std::filesystem;

namespace medtrain::cli {
namespace {

struct DeidFlags {
  std::string in, out, key_file, profile = "basic", verify, on_error = "fail";
  std::vector<std::string> options, keep_private;
  bool allow_burned_in = false;
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

int run_verify(const DeidFlags& f) {
  if (!fs::is_directory(f.verify)) throw UserError(fmt::format("--verify {}: not a folder", f.verify));
  data::deid::VerifyOptions options;
  for (const auto& t : f.keep_private) options.keep_private.insert(parse_private_tag(t));
  long files = 0, bad = 0;
  for (const auto& entry : fs::recursive_directory_iterator(f.verify)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    if (name == data::deid::kAuditFileName || name == data::deid::kSummaryFileName) continue;
    ++files;
    if (auto problem = data::deid::check_deidentified(entry.path().string(), options)) {
      ++bad;
      fmt::print("{}: {}\n", entry.path().string(), *problem);
    }
  }
  fmt::print("verify: {} of {} files are not de-identified\n", bad, files);
  return bad == 0 ? kExitOk : kExitRuntimeError;
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
  o.allow_burned_in = f.allow_burned_in;
  o.jobs = f.jobs;
  o.skip_bad_files = f.on_error == "skip";
  o.settings.tool_version = kVersion;
  for (const auto& name : f.options) o.settings.options.set(data::deid::parse_option(name));
  for (const auto& t : f.keep_private) o.settings.keep_private.insert(parse_private_tag(t));
  auto mutex = std::make_shared<std::mutex>();
  o.on_warning = [mutex](const std::string& line) {
    std::lock_guard<std::mutex> lock(*mutex);
    std::fprintf(stderr, "medtrain: warning: %s\n", line.c_str());
  };
  const auto s = data::deid::run_deid(o);
  const double mb = static_cast<double>(s.bytes_in) / 1e6;
  fmt::print("deid: {} files: {} written, {} already done, {} excluded (burned-in), {} failed; "
             "{:.1f} MB in {:.2f} s ({:.1f} files/s)\naudit {}/{}, summary {}/{}\n",
             s.files, s.written, s.resumed, s.excluded_burned_in, s.failed, mb, s.seconds,
             s.seconds > 0 ? static_cast<double>(s.files) / s.seconds : 0.0, f.out, data::deid::kAuditFileName, f.out,
             data::deid::kSummaryFileName);
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
  cmd->add_flag("--allow-burned-in", f->allow_burned_in, "include files with Burned In Annotation = YES");
  cmd->add_option("--jobs", f->jobs, "worker threads (default: all cores)")->check(CLI::Range(1, 1024));
  cmd->add_option("--on-error", f->on_error, "a file that cannot be de-identified: fail the run, or skip it")
      ->check(CLI::IsMember({"fail", "skip"}))
      ->capture_default_str();
  cmd->add_option("--verify", f->verify, "check a de-identified tree instead; exit 1 if any file fails");
  return {cmd, [f] { return run_deid(*f); }};
}

}  // namespace medtrain::cli
