// libFuzzer target for a checkpoint's trainer_state.json
// (trainer/checkpoint/trainer_state_json.h): any text must either parse or
// raise CheckpointError, never crash or raise anything else (a JSON library
// exception escaping would reach the CLI as an unexplained error). Seeds are
// files written by trainer_state_json (tests/fuzz/parser_seeds.py writes the
// same shape). Built by tests/fuzz/run_fuzz.sh.
//
// What parses must round-trip: written back and parsed again it gives the same
// state (NaN compared as NaN), or the writer and the reader disagree.
#include <cmath>
#include <cstdint>
#include <string>

#include "trainer/checkpoint/trainer_state_json.h"

namespace ckpt = medtrain::checkpoint;

namespace {

bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

bool same(const ckpt::TrainerState& a, const ckpt::TrainerState& b) {
  if (a.step != b.step || a.epoch != b.epoch || a.batch_in_epoch != b.batch_in_epoch ||
      a.samples_seen != b.samples_seen || a.world_size != b.world_size || a.global_batch != b.global_batch ||
      a.grad_accum_steps != b.grad_accum_steps || !same(a.loss_scale, b.loss_scale) ||
      a.best_metric.has_value() != b.best_metric.has_value() || a.best_checkpoint != b.best_checkpoint ||
      a.torch_version != b.torch_version || a.medtrain_version != b.medtrain_version ||
      a.last_eval.size() != b.last_eval.size()) {
    return false;
  }
  if (a.best_metric && !same(*a.best_metric, *b.best_metric)) return false;
  for (const auto& [k, v] : a.last_eval) {
    const auto it = b.last_eval.find(k);
    if (it == b.last_eval.end() || !same(v, it->second)) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  ckpt::TrainerState state;
  std::string sha;
  try {
    state = ckpt::parse_trainer_state(text, "fuzz", &sha);
  } catch (const ckpt::CheckpointError&) {
    return 0;  // the expected outcome for bad input
  }
  std::string again_sha;
  const ckpt::TrainerState again =
      ckpt::parse_trainer_state(ckpt::trainer_state_json(state, sha), "fuzz (written back)", &again_sha);
  if (!same(state, again) || sha != again_sha) __builtin_trap();
  return 0;
}
