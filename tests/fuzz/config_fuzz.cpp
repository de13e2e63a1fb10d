// libFuzzer target for the YAML experiment config through the schema
// (trainer/config/config_loader.h): any file, and any list of `--set`
// overrides, must either give a validated Config or raise ConfigError (a
// UserError: one line naming the key and where), never crash, hang or let a
// yaml-cpp or standard-library exception escape. Built by
// tests/fuzz/run_fuzz.sh; seeds are the repository's configs/*.yaml and a few
// override lists (tests/fuzz/parser_seeds.py).
//
// The first byte picks what the rest is: even = a config file (written to a
// scratch file, so `base:` chains, their cycles and the guarded read are on
// the path), odd = one override per line ("section.key=value").
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "trainer/config/config_loader.h"

namespace config = medtrain::config;

namespace {

std::string scratch_path() {
  const char* dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  return std::string(dir) + "/medtrain_config_fuzz_" + std::to_string(getpid()) + ".yaml";
}

std::vector<std::string> lines(const char* p, size_t n) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < n; ++i) {
    if (p[i] == '\n') {
      out.emplace_back();
    } else {
      out.back() += p[i];
    }
  }
  return out;
}

const std::string& scratch_path_of_this_run() {
  static const std::string path = scratch_path();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool overrides = (data[0] & 1) != 0;
  const char* text = reinterpret_cast<const char*>(data + 1);
  --size;
  try {
    if (overrides) {
      config::config_from_overrides(lines(text, size));
      return 0;
    }
    const std::string& path = scratch_path_of_this_run();
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return 0;
    if (size > 0) std::fwrite(text, 1, size, f);
    std::fclose(f);
    const config::Config c = config::load_config(path);
    // What was accepted is written back as YAML that must load again.
    const std::string yaml = config::to_yaml(c);
    FILE* g = std::fopen(path.c_str(), "wb");
    if (g == nullptr) return 0;
    std::fwrite(yaml.data(), 1, yaml.size(), g);
    std::fclose(g);
  } catch (const config::ConfigError&) {
    return 0;  // the expected outcome for bad input
  }
  try {
    config::load_config(scratch_path_of_this_run());
  } catch (const config::ConfigError&) {
    __builtin_trap();  // to_yaml wrote what load_config refuses
  }
  return 0;
}
