#include "models/nlu/bert_config.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "models/model_error.h"

namespace medtrain::models::nlu {
namespace {

using nlohmann::json;

class Reader {
 public:
  Reader(const json& j, const std::string& origin) : j_(j), origin_(origin) {}

  [[noreturn]] void fail(const std::string& key, const std::string& why) const {
    throw ModelError(fmt::format("{}: \"{}\" {}", origin_, key, why));
  }

  // A positive integer no larger than `max`; `fallback` when absent.
  int64_t count(const std::string& key, int64_t fallback, int64_t min = 1, int64_t max = int64_t{1} << 24) const {
    if (!j_.contains(key)) return fallback;
    const json& v = j_.at(key);
    if (!v.is_number_integer()) fail(key, "is not an integer: " + v.dump());
    const int64_t n = v.get<int64_t>();
    if (n < min || n > max) fail(key, fmt::format("must be between {} and {}, got {}", min, max, n));
    return n;
  }

  double number(const std::string& key, double fallback, double min, double max) const {
    if (!j_.contains(key)) return fallback;
    const json& v = j_.at(key);
    if (!v.is_number()) fail(key, "is not a number: " + v.dump());
    const double x = v.get<double>();
    if (!(x >= min && x <= max)) fail(key, fmt::format("must be between {} and {}, got {}", min, max, x));
    return x;
  }

  std::string text(const std::string& key, const std::string& fallback) const {
    if (!j_.contains(key) || j_.at(key).is_null()) return fallback;
    if (!j_.at(key).is_string()) fail(key, "is not a string: " + j_.at(key).dump());
    return j_.at(key).get<std::string>();
  }

 private:
  const json& j_;
  const std::string& origin_;
};

}  // namespace

BertConfig parse_bert_config(const std::string& json_text, const std::string& origin) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::exception& e) {
    throw ModelError(fmt::format("{}: not valid JSON ({})", origin, e.what()));
  }
  if (!j.is_object()) throw ModelError(origin + ": not a JSON object (a Hugging Face config.json)");
  const Reader r(j, origin);
  BertConfig c;
  const std::string type = r.text("model_type", "bert");
  if (type != "bert") r.fail("model_type", "is \"" + type + "\"; medtrain reads BERT encoders (\"bert\")");
  c.vocab_size = r.count("vocab_size", c.vocab_size);
  c.hidden_size = r.count("hidden_size", c.hidden_size);
  c.num_hidden_layers = r.count("num_hidden_layers", c.num_hidden_layers, 1, 256);
  c.num_attention_heads = r.count("num_attention_heads", c.num_attention_heads, 1, 1024);
  c.intermediate_size = r.count("intermediate_size", c.intermediate_size);
  c.max_position_embeddings = r.count("max_position_embeddings", c.max_position_embeddings, 1, 1 << 20);
  c.type_vocab_size = r.count("type_vocab_size", c.type_vocab_size, 1, 1 << 16);
  c.pad_token_id = r.count("pad_token_id", c.pad_token_id, 0, c.vocab_size - 1);
  c.layer_norm_eps = r.number("layer_norm_eps", c.layer_norm_eps, 1e-30, 1.0);
  c.hidden_dropout_prob = r.number("hidden_dropout_prob", c.hidden_dropout_prob, 0.0, 1.0);
  c.attention_probs_dropout_prob = r.number("attention_probs_dropout_prob", c.attention_probs_dropout_prob, 0.0, 1.0);
  if (c.hidden_size % c.num_attention_heads != 0) {
    r.fail("hidden_size", fmt::format("{} is not a multiple of num_attention_heads {}", c.hidden_size,
                                      c.num_attention_heads));
  }
  const std::string act = r.text("hidden_act", "gelu");
  if (act == "gelu_new" || act == "gelu_pytorch_tanh") {
    c.gelu_tanh = true;
  } else if (act != "gelu") {
    r.fail("hidden_act", "is \"" + act + "\"; supported: gelu, gelu_new, gelu_pytorch_tanh");
  }
  const std::string position = r.text("position_embedding_type", "absolute");
  if (position != "absolute") r.fail("position_embedding_type", "is \"" + position + "\"; supported: absolute");
  return c;
}

}  // namespace medtrain::models::nlu
