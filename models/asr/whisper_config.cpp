#include "models/asr/whisper_config.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "models/model_error.h"

namespace medtrain::models::asr {
namespace {

using nlohmann::json;

class Reader {
 public:
  Reader(const json& j, const std::string& origin) : j_(j), origin_(origin) {}

  [[noreturn]] void fail(const std::string& key, const std::string& why) const {
    throw ModelError(fmt::format("{}: \"{}\" {}", origin_, key, why));
  }

  bool has(const std::string& key) const { return j_.contains(key) && !j_.at(key).is_null(); }

  int64_t integer(const std::string& key, int64_t min, int64_t max) const {
    const json& v = j_.at(key);
    if (!v.is_number_integer()) fail(key, "is not an integer: " + v.dump());
    const int64_t n = v.get<int64_t>();
    if (n < min || n > max) fail(key, fmt::format("must be between {} and {}, got {}", min, max, n));
    return n;
  }

  // A size every Whisper config.json has: missing is an error.
  int64_t size(const std::string& key, int64_t max = int64_t{1} << 24) const {
    if (!has(key)) fail(key, "is missing (a Whisper config.json gives every size)");
    return integer(key, 1, max);
  }

  // A token id, or -1 when absent. A one-element list is taken as its element
  // (generation configs may list eos ids).
  int64_t token(const std::string& key, int64_t vocab) const {
    if (!has(key)) return -1;
    const json& v = j_.at(key);
    if (v.is_array()) {
      if (v.size() != 1 || !v[0].is_number_integer()) fail(key, "must be one token id, got " + v.dump());
      return checked_id(key, v[0].get<int64_t>(), vocab);
    }
    if (!v.is_number_integer()) fail(key, "is not a token id: " + v.dump());
    return checked_id(key, v.get<int64_t>(), vocab);
  }

  std::vector<int64_t> tokens(const std::string& key, int64_t vocab, std::vector<int64_t> fallback) const {
    if (!has(key)) return fallback;
    const json& v = j_.at(key);
    if (!v.is_array()) fail(key, "is not a list of token ids: " + v.dump());
    std::vector<int64_t> ids;
    for (const json& e : v) {
      if (!e.is_number_integer()) fail(key, "holds a non-integer: " + e.dump());
      ids.push_back(checked_id(key, e.get<int64_t>(), vocab));
    }
    return ids;
  }

  double number(const std::string& key, double fallback, double min, double max) const {
    if (!has(key)) return fallback;
    const json& v = j_.at(key);
    if (!v.is_number()) fail(key, "is not a number: " + v.dump());
    const double x = v.get<double>();
    if (!(x >= min && x <= max)) fail(key, fmt::format("must be between {} and {}, got {}", min, max, x));
    return x;
  }

  std::string text(const std::string& key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    if (!j_.at(key).is_string()) fail(key, "is not a string: " + j_.at(key).dump());
    return j_.at(key).get<std::string>();
  }

  bool flag(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    if (!j_.at(key).is_boolean()) fail(key, "is not true or false: " + j_.at(key).dump());
    return j_.at(key).get<bool>();
  }

 private:
  int64_t checked_id(const std::string& key, int64_t id, int64_t vocab) const {
    if (id < 0 || id >= vocab) fail(key, fmt::format("token id {} is outside the vocabulary [0, {})", id, vocab));
    return id;
  }

  const json& j_;
  const std::string& origin_;
};

json parse_object(const std::string& json_text, const std::string& origin) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::exception& e) {
    throw ModelError(fmt::format("{}: not valid JSON ({})", origin, e.what()));
  }
  if (!j.is_object()) throw ModelError(origin + ": not a JSON object (a Hugging Face config)");
  return j;
}

void read_sizes(const Reader& r, WhisperConfig& c) {
  c.vocab_size = r.size("vocab_size");
  c.num_mel_bins = r.size("num_mel_bins", 1024);
  c.d_model = r.size("d_model");
  c.encoder_layers = r.size("encoder_layers", 256);
  c.decoder_layers = r.size("decoder_layers", 256);
  c.encoder_attention_heads = r.size("encoder_attention_heads", 1024);
  c.decoder_attention_heads = r.size("decoder_attention_heads", 1024);
  c.encoder_ffn_dim = r.size("encoder_ffn_dim");
  c.decoder_ffn_dim = r.size("decoder_ffn_dim");
  c.max_source_positions = r.size("max_source_positions", 1 << 20);
  c.max_target_positions = r.size("max_target_positions", 1 << 20);
  const std::pair<const char*, int64_t> heads[] = {{"encoder_attention_heads", c.encoder_attention_heads},
                                                   {"decoder_attention_heads", c.decoder_attention_heads}};
  for (const auto& [key, h] : heads) {
    if (c.d_model % h != 0) r.fail(key, fmt::format("{} does not divide d_model {}", h, c.d_model));
  }
  // The sinusoidal encoder positions need an even width above 2.
  if (c.d_model % 2 != 0 || c.d_model < 4) r.fail("d_model", fmt::format("must be even and >= 4, got {}", c.d_model));
}

void read_tokens(const Reader& r, WhisperConfig& c) {
  const int64_t v = c.vocab_size;
  if (r.has("decoder_start_token_id")) c.decoder_start_token_id = r.token("decoder_start_token_id", v);
  if (r.has("eos_token_id")) c.eos_token_id = r.token("eos_token_id", v);
  if (r.has("no_timestamps_token_id")) c.no_timestamps_token_id = r.token("no_timestamps_token_id", v);
  c.suppress_tokens = r.tokens("suppress_tokens", v, c.suppress_tokens);
  c.begin_suppress_tokens = r.tokens("begin_suppress_tokens", v, c.begin_suppress_tokens);
}

}  // namespace

WhisperConfig parse_whisper_config(const std::string& json_text, const std::string& origin) {
  const json j = parse_object(json_text, origin);
  const Reader r(j, origin);
  const std::string type = r.text("model_type", "whisper");
  if (type != "whisper") r.fail("model_type", "is \"" + type + "\"; this loader reads Whisper (\"whisper\")");
  WhisperConfig c;
  read_sizes(r, c);
  c.scale_embedding = r.flag("scale_embedding", false);
  c.dropout = r.number("dropout", 0.0, 0.0, 1.0);
  c.attention_dropout = r.number("attention_dropout", 0.0, 0.0, 1.0);
  c.activation_dropout = r.number("activation_dropout", 0.0, 0.0, 1.0);
  const std::string act = r.text("activation_function", "gelu");
  if (act != "gelu") r.fail("activation_function", "is \"" + act + "\"; Whisper's is the exact \"gelu\"");
  if (!r.flag("tie_word_embeddings", true)) {
    r.fail("tie_word_embeddings", "is false; Whisper's output projection is the token embedding");
  }
  read_tokens(r, c);
  return c;
}

void apply_generation_config(WhisperConfig& config, const std::string& json_text, const std::string& origin) {
  const json j = parse_object(json_text, origin);
  read_tokens(Reader(j, origin), config);
}

void apply_ct2_config(WhisperConfig& config, const std::string& json_text, const std::string& origin) {
  const json j = parse_object(json_text, origin);
  const Reader r(j, origin);
  config.suppress_tokens = r.tokens("suppress_ids", config.vocab_size, config.suppress_tokens);
  config.begin_suppress_tokens = r.tokens("suppress_ids_begin", config.vocab_size, config.begin_suppress_tokens);
}

}  // namespace medtrain::models::asr
