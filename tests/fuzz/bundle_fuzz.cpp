// libFuzzer target for what `medtrain infer` parses of a bundle
// (trainer/export/inference.cpp load_bundle): model.yaml through
// parse_model_card (trainer/export/model_card.h), then model.safetensors
// through the safetensors layout check (models/safetensors_header.h). Each
// must either be accepted or raise its error (UserError, ModelError), never
// crash, hang or let a yaml-cpp exception escape. Built by
// tests/fuzz/run_fuzz.sh; seeds are bundles of tiny models
// (tests/fuzz/parser_seeds.py).
//
// Input: a 2-byte little-endian length N, N bytes of model.yaml, then the
// safetensors bytes. A card that parses must survive its own writer: written
// back by model_card_yaml it parses again to the same card. Only for UTF-8
// text: YAML is UTF-8 by definition, yaml-cpp reads other bytes as they come
// and its emitter escapes them, so no round trip is promised for those.
#include <algorithm>
#include <cstdint>
#include <string>

#include "models/model_error.h"
#include "data/text/utf8.h"
#include "models/safetensors_header.h"
#include "trainer/export/model_card.h"
#include "trainer/user_error.h"

namespace exporter = medtrain::exporter;

namespace {

bool same(const exporter::ModelCard& a, const exporter::ModelCard& b) {
  return a.architecture == b.architecture && a.task == b.task && a.num_classes == b.num_classes &&
         a.in_channels == b.in_channels && a.labels == b.labels && a.step == b.step && a.epoch == b.epoch &&
         a.config_sha256 == b.config_sha256 && a.onnx_opset == b.onnx_opset &&
         a.text_max_length == b.text_max_length && a.files == b.files &&
         a.preprocessing.image_size == b.preprocessing.image_size && a.preprocessing.depth == b.preprocessing.depth &&
         a.preprocessing.colour == b.preprocessing.colour && a.metrics.size() == b.metrics.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t n = std::min<size_t>(data[0] | (data[1] << 8), size - 2);
  const std::string yaml(reinterpret_cast<const char*>(data + 2), n);
  const char* weights = reinterpret_cast<const char*>(data + 2 + n);
  const size_t weights_size = size - 2 - n;
  try {
    const exporter::ModelCard card = exporter::parse_model_card(yaml, "fuzz/model.yaml");
    if (medtrain::data::text::decode_utf8_lossy(yaml).replacements > 0) return 0;
    exporter::ModelCard again;
    try {
      again = exporter::parse_model_card(exporter::model_card_yaml(card), "fuzz/model.yaml (written back)");
    } catch (const medtrain::UserError&) {
      __builtin_trap();  // the writer wrote what the reader refuses
    }
    if (!same(card, again)) __builtin_trap();
  } catch (const medtrain::UserError&) {
    // the expected outcome for a bad card; the weights are still read below
  }
  try {
    medtrain::models::parse_safetensors_layout(weights, weights_size, "fuzz/model.safetensors");
  } catch (const medtrain::models::ModelError&) {
  }
  return 0;
}
