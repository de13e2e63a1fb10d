// Encoder inference throughput (sentences/s) of a text classification bundle,
// loaded the way `medtrain infer` loads it (exporter::load_text_bundle:
// checksummed files, strict load, eval mode) and run the way it runs a batch
// (exporter::text_logits: pad, encoder + head without autograd). The load and
// the tokenizer are outside the timed part: only the forward pass on a fixed
// batch of token ids, like for like with ONNX Runtime and PyTorch eager timing
// theirs (scripts/bench/text_infer_vs_ort.sh drives all three).
//
// The batch: BENCH_BATCH reports of BENCH_REPORTS (a .jsonl manifest), each
// joined with the reports after it until it has at least max_length tokens,
// then cut as classification cuts it (exporter::classification_ids): every row
// is exactly the bundle's text.max_length ids, so no side pads and all three
// compute the same [B, max_length] batch (model.onnx takes exactly that).
//
// Environment:
//   BENCH_BUNDLE   the text bundle folder (required)
//   BENCH_REPORTS  a .jsonl of reports with "id" and "text" (required)
//   BENCH_BATCH    reports per forward (32)
//   BENCH_THREADS  intra-op threads (2)
//   BENCH_ITERS    forwards per repetition (2); --benchmark_repetitions sets the repetitions
//   BENCH_INPUT    if set, the timed ids [B, max_length] are written there as float32 .npy (exact below 2^24)
//   BENCH_LOGITS   if set, medtrain's logits for them are written there as .npy
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/text/text_manifest.h"
#include "scripts/bench/bench_env.h"
#include "trainer/export/text_bundle.h"
#include "trainer/export/text_inference.h"

namespace {

using medtrain::bench::env_int;
using medtrain::bench::env_str;
using medtrain::bench::write_npy;

// Row i: report i and the ones after it (cyclically), joined until the row
// fills max_length.
std::vector<std::vector<int64_t>> full_rows(const medtrain::exporter::TextBundle& b,
                                            const std::vector<std::string>& reports, size_t batch) {
  const auto length = static_cast<size_t>(b.card.text_max_length);
  std::vector<std::vector<int64_t>> rows;
  for (size_t i = 0; i < batch; ++i) {
    std::string text;
    std::vector<int64_t> ids;
    for (size_t k = 0; k < reports.size() && ids.size() < length; ++k) {
      text += (k ? " " : "") + reports[(i + k) % reports.size()];
      ids = medtrain::exporter::classification_ids(b, text);
    }
    if (ids.size() != length) {
      throw std::runtime_error("all reports of BENCH_REPORTS together have fewer than text.max_length " +
                               std::to_string(length) + " tokens");
    }
    rows.push_back(std::move(ids));
  }
  return rows;
}

struct Fixture {
  medtrain::exporter::TextBundle bundle;
  std::vector<std::vector<int64_t>> rows;
};

Fixture& fixture() {
  static Fixture f = [] {
    Fixture out;
    out.bundle = medtrain::exporter::load_text_bundle(env_str("BENCH_BUNDLE"), c10::Device(c10::kCPU));
    if (out.bundle.card.task == "token_classification") {
      throw std::runtime_error("BENCH_BUNDLE is a tagging bundle; this benchmark times text classification");
    }
    medtrain::data::text::TextManifestOptions o;
    o.path = env_str("BENCH_REPORTS");
    std::vector<std::string> reports;
    for (auto& row : medtrain::data::text::read_text_manifest(o).rows) reports.push_back(std::move(row.text));
    if (reports.empty()) throw std::runtime_error("BENCH_REPORTS holds no reports");
    out.rows = full_rows(out.bundle, reports, static_cast<size_t>(env_int("BENCH_BATCH", 32)));
    if (!env_str("BENCH_INPUT").empty()) {
      std::vector<int64_t> flat;
      for (const auto& r : out.rows) flat.insert(flat.end(), r.begin(), r.end());
      write_npy(env_str("BENCH_INPUT"),
                torch::tensor(flat, torch::kInt64).reshape({static_cast<int64_t>(out.rows.size()), -1}));
    }
    if (!env_str("BENCH_LOGITS").empty()) {
      write_npy(env_str("BENCH_LOGITS"), medtrain::exporter::text_logits(out.bundle, out.rows));
    }
    return out;
  }();
  return f;
}

void BM_TextInferForward(benchmark::State& state) {
  Fixture& f = fixture();
  benchmark::DoNotOptimize(medtrain::exporter::text_logits(f.bundle, f.rows));  // warm-up: first-call allocations
  for (auto _ : state) {
    torch::Tensor logits = medtrain::exporter::text_logits(f.bundle, f.rows);
    benchmark::DoNotOptimize(logits.data_ptr<float>());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(f.rows.size()));
  state.SetLabel(f.bundle.card.architecture + " batch " + std::to_string(f.rows.size()) + " x " +
                 std::to_string(f.bundle.card.text_max_length) + " tokens");
}

}  // namespace

int main(int argc, char** argv) {
  if (env_str("BENCH_BUNDLE").empty() || env_str("BENCH_REPORTS").empty()) {
    std::fprintf(stderr, "text_infer_forward_bench: set BENCH_BUNDLE (a text bundle) and BENCH_REPORTS (a .jsonl)\n");
    return 2;
  }
  torch::set_num_threads(env_int("BENCH_THREADS", 2));
  try {
    fixture();  // load errors are reported here, once, not inside the benchmark
  } catch (const std::exception& e) {
    std::fprintf(stderr, "text_infer_forward_bench: %s\n", e.what());
    return 2;
  }
  return medtrain::bench::run_benchmark(argc, argv, "BM_TextInferForward", BM_TextInferForward, env_int("BENCH_ITERS", 2));
}
