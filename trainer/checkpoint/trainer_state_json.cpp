#include "trainer/checkpoint/trainer_state_json.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>

namespace medtrain::checkpoint {
namespace {

using nlohmann::json;

json encode_double(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

class Reader {
 public:
  Reader(const json& j, const std::string& where) : j_(j), where_(where) {}

  [[noreturn]] void fail(const std::string& key, const std::string& problem) const {
    throw CheckpointError(where_ + ": key \"" + key + "\" " + problem);
  }
  const json& at(const std::string& key) const {
    if (!j_.contains(key)) fail(key, "is missing");
    return j_.at(key);
  }
  int64_t integer(const std::string& key) const {
    const json& v = at(key);
    if (!v.is_number_integer()) fail(key, "is not an integer: " + v.dump());
    if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())) {
      fail(key, "is out of range: " + v.dump());
    }
    return v.get<int64_t>();
  }
  int64_t counter(const std::string& key) const {
    const int64_t v = integer(key);
    if (v < 0) fail(key, "must be >= 0, got " + std::to_string(v));
    return v;
  }
  std::string string(const std::string& key) const {
    const json& v = at(key);
    if (!v.is_string()) fail(key, "is not a string: " + v.dump());
    return v.get<std::string>();
  }
  double number(const std::string& key, const json& v) const {
    if (v.is_number()) return v.get<double>();
    if (v == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (v == "inf") return std::numeric_limits<double>::infinity();
    if (v == "-inf") return -std::numeric_limits<double>::infinity();
    fail(key, "is not a number: " + v.dump());
  }
  double number(const std::string& key) const { return number(key, at(key)); }

 private:
  const json& j_;
  const std::string& where_;
};

}  // namespace

std::string trainer_state_json(const TrainerState& s, const std::string& config_sha256) {
  json last_eval = json::object();
  for (const auto& [k, v] : s.last_eval) last_eval[k] = encode_double(v);
  const json j = {
      {"format", kTrainerStateFormat},
      {"step", s.step},
      {"epoch", s.epoch},
      {"batch_in_epoch", s.batch_in_epoch},
      {"samples_seen", s.samples_seen},
      {"world_size", s.world_size},
      {"global_batch", s.global_batch},
      {"grad_accum_steps", s.grad_accum_steps},
      {"loss_scale", encode_double(s.loss_scale)},
      {"best_metric", s.best_metric ? encode_double(*s.best_metric) : json(nullptr)},
      {"best_checkpoint", s.best_checkpoint},
      {"last_eval", last_eval},
      {"torch_version", s.torch_version},
      {"medtrain_version", s.medtrain_version},
      {"config_sha256", config_sha256},
  };
  return j.dump(2) + "\n";
}

TrainerState parse_trainer_state(const std::string& text, const std::string& where,
                                 std::string* config_sha256) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw CheckpointError(where + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object()) throw CheckpointError(where + ": not a JSON object");
  const Reader r(j, where);
  if (r.string("format") != kTrainerStateFormat) {
    r.fail("format", "is \"" + r.string("format") + "\", expected \"" + kTrainerStateFormat + "\"");
  }
  TrainerState s;
  // Counters are never negative: a tampered -5 would resume with a negative
  // learning rate (warmup from a negative step) before anything else failed.
  s.step = r.counter("step");
  s.epoch = r.counter("epoch");
  s.batch_in_epoch = r.counter("batch_in_epoch");
  s.samples_seen = r.counter("samples_seen");
  const int64_t world = r.integer("world_size");
  if (world < 1 || world > std::numeric_limits<int>::max()) r.fail("world_size", "is out of range");
  s.world_size = static_cast<int>(world);
  s.global_batch = r.integer("global_batch");
  if (s.global_batch < 1) r.fail("global_batch", "must be at least 1");
  s.grad_accum_steps = r.integer("grad_accum_steps");
  if (s.grad_accum_steps < 1) r.fail("grad_accum_steps", "must be at least 1");
  s.loss_scale = r.number("loss_scale");
  if (!(std::isfinite(s.loss_scale) && s.loss_scale > 0)) r.fail("loss_scale", "must be a finite number > 0");
  if (!r.at("best_metric").is_null()) s.best_metric = r.number("best_metric");
  s.best_checkpoint = r.string("best_checkpoint");
  const json& last_eval = r.at("last_eval");
  if (!last_eval.is_object()) r.fail("last_eval", "is not an object");
  for (const auto& [k, v] : last_eval.items()) s.last_eval[k] = r.number("last_eval." + k, v);
  s.torch_version = r.string("torch_version");
  s.medtrain_version = r.string("medtrain_version");
  if (config_sha256 != nullptr) *config_sha256 = r.string("config_sha256");
  return s;
}

}  // namespace medtrain::checkpoint
