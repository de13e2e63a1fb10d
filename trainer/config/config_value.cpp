#include "trainer/config/config_value.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace medtrain::config::detail {
namespace {

// from_chars takes no leading '+', YAML does.
std::string_view strip_plus(std::string_view text) {
  return text.size() > 1 && text[0] == '+' ? text.substr(1) : text;
}

int64_t parse_int(const KeySpec& spec, const std::string& text, const Location& where) {
  const std::string_view digits = strip_plus(text);
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec == std::errc::result_out_of_range) {
    throw key_error(spec.path, where, "integer out of range (64-bit), got " + quote(text));
  }
  if (ec != std::errc() || end != digits.data() + digits.size()) {
    throw key_error(spec.path, where, "expected an integer, got " + quote(text));
  }
  return value;
}

double parse_float(const KeySpec& spec, const std::string& text, const Location& where) {
  const std::string_view digits = strip_plus(text);
  // from_chars also reads "inf", "nan" and hex digits; a config wants decimals.
  const bool decimal = !digits.empty() && std::all_of(digits.begin(), digits.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == 'E' ||
           c == '-' || c == '+';
  });
  double value = 0;
  const auto [end, ec] = decimal
                             ? std::from_chars(digits.data(), digits.data() + digits.size(), value)
                             : std::from_chars_result{digits.data(), std::errc::invalid_argument};
  if (ec == std::errc::result_out_of_range) {
    throw key_error(spec.path, where, "number out of range, got " + quote(text));
  }
  if (ec != std::errc() || end != digits.data() + digits.size()) {
    throw key_error(spec.path, where, "expected a number, got " + quote(text));
  }
  return value;
}

bool parse_bool(const KeySpec& spec, const std::string& text, const Location& where) {
  // YAML 1.2 core schema booleans only: yes/no/on/off are YAML 1.1 traps.
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  throw key_error(spec.path, where, "expected true or false, got " + quote(text));
}

std::vector<std::string> parse_list(const KeySpec& spec, const YAML::Node& node,
                                    const Location& where) {
  if (node.IsNull()) return {};
  if (!node.IsSequence()) {
    throw key_error(spec.path, where,
                    "expected a list of strings like [a, b], got " + describe(node));
  }
  std::vector<std::string> items;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    if (!item.IsScalar()) {
      Location at = where;
      if (at.kind == Location::Kind::kFile && item.Mark().line >= 0) at.line = item.Mark().line + 1;
      throw key_error(fmt::format("{}[{}]", spec.path, i), at,
                      "expected a string, got " + describe(item));
    }
    items.push_back(item.Scalar());
  }
  return items;
}

bool is_plain_safe(const std::string& text) {
  static const char* const kReserved[] = {"true", "false", "yes", "no",   "on",
                                          "off",  "y",     "n",   "null", "~"};
  if (text.empty()) return false;
  const unsigned char first = static_cast<unsigned char>(text[0]);
  if (!std::isalpha(first) && first != '_' && first != '/') return false;
  for (const char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '/' &&
        c != '-') {
      return false;
    }
  }
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::none_of(std::begin(kReserved), std::end(kReserved),
                      [&](const char* word) { return lower == word; });
}

// A YAML double-quoted scalar: the escapes below are the YAML ones.
std::string double_quoted(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string format_string(const std::string& text) {
  return is_plain_safe(text) ? text : double_quoted(text);
}

std::string format_float(double value) {
  std::string text = fmt::format("{}", value);  // shortest text that reads back exactly
  if (std::isfinite(value) && text.find_first_of(".eE") == std::string::npos) text += ".0";
  return text;
}

const char* expected_scalar(KeyType type) {
  switch (type) {
    case KeyType::kInt:
      return "an integer";
    case KeyType::kFloat:
      return "a number";
    case KeyType::kBool:
      return "true or false";
    default:
      return "a string";
  }
}

}  // namespace

Value parse_value(const KeySpec& spec, const YAML::Node& node, const Location& where) {
  if (spec.type == KeyType::kStringList) return parse_list(spec, node, where);
  if (node.IsNull() && (spec.type == KeyType::kString || spec.type == KeyType::kEnum)) {
    return std::string();
  }
  if (!node.IsScalar()) {
    throw key_error(spec.path, where,
                    fmt::format("expected {}, got {}", expected_scalar(spec.type), describe(node)));
  }
  const std::string& text = node.Scalar();
  switch (spec.type) {
    case KeyType::kInt:
      return parse_int(spec, text, where);
    case KeyType::kFloat:
      return parse_float(spec, text, where);
    case KeyType::kBool:
      return parse_bool(spec, text, where);
    default:
      return text;
  }
}

std::string format_value(const Value& value) {
  struct Formatter {
    std::string operator()(int64_t v) const { return fmt::format("{}", v); }
    std::string operator()(double v) const { return format_float(v); }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(const std::string& v) const { return format_string(v); }
    std::string operator()(const std::vector<std::string>& v) const {
      std::vector<std::string> items;
      for (const std::string& item : v) items.push_back(format_string(item));
      return fmt::format("[{}]", fmt::join(items, ", "));
    }
  };
  return std::visit(Formatter{}, value);
}

std::string describe(const YAML::Node& node) {
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  if (node.IsNull()) return "nothing";
  return quote(node.Scalar());
}

std::string quote(std::string_view text) {
  constexpr std::size_t kMaxShown = 60;
  if (text.size() <= kMaxShown) return double_quoted(text);
  return double_quoted(text.substr(0, kMaxShown)) + "...";
}

}  // namespace medtrain::config::detail
