// Decode + preprocess throughput of medtrain's DICOM path on one core, one
// benchmark per file (one file per transfer syntax), on the production code:
// read_dicom_image (DCMTK / OpenJPEG decode, modality LUT) then preprocess_hu
// (window, normalize, bilinear antialiased resize to 256x256) as DicomDataset
// does. Counterpart: scripts/bench/dicom_decode_pydicom.py; the comparison is
// scripts/bench/dicom_decode_vs_pydicom.sh, which also writes the files.
//   MEDTRAIN_BENCH_DICOM_DIR=DIR dicom_decode_bench [--benchmark_* flags]
// DIR holds corpus.csv from tests/data/dicom_corpus.py; files named in
// MEDTRAIN_BENCH_FILES (comma separated) are timed, default all ct12_* files.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "data/dicom/dicom_dataset.h"
#include "data/dicom/dicom_image.h"

namespace {

using medtrain::data::DicomDatasetOptions;

void bm_decode_preprocess(benchmark::State& state, const std::string& path) {
  DicomDatasetOptions o;
  o.image_size = 256;
  o.window_center = 40;
  o.window_width = 400;
  for (auto _ : state) {
    const medtrain::data::DicomImage img = medtrain::data::read_dicom_image(path);
    torch::Tensor x = medtrain::data::preprocess_hu(medtrain::data::grey_frame(img, 0).contiguous(), o);
    benchmark::DoNotOptimize(x.data_ptr<float>());
  }
  state.counters["samples_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                       benchmark::Counter::kIsRate);
}

std::vector<std::string> files_to_time(const std::string& dir) {
  std::vector<std::string> out;
  if (const char* list = std::getenv("MEDTRAIN_BENCH_FILES")) {
    std::stringstream ss(list);
    for (std::string f; std::getline(ss, f, ',');) out.push_back(f);
    return out;
  }
  std::ifstream csv(dir + "/corpus.csv");
  std::string line;
  std::getline(csv, line);
  while (std::getline(csv, line)) {
    const std::string f = line.substr(0, line.find(','));
    if (f.rfind("ct12_", 0) == 0) out.push_back(f);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const char* dir = std::getenv("MEDTRAIN_BENCH_DICOM_DIR");
  if (dir == nullptr) {
    std::cerr << "dicom_decode_bench: set MEDTRAIN_BENCH_DICOM_DIR (see scripts/bench/dicom_decode_vs_pydicom.sh)\n";
    return 2;
  }
  torch::set_num_threads(1);  // one core: the data loader runs one sample per worker thread
  for (const std::string& f : files_to_time(dir)) {
    const std::string path = std::string(dir) + "/" + f;
    medtrain::data::read_dicom_image(path);  // fail before timing, with the decoder's message
    benchmark::RegisterBenchmark(f.c_str(), bm_decode_preprocess, path)->Unit(benchmark::kMillisecond);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
