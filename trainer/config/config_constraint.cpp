// Constraint builders and checks of the key table (see config_schema.h).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "data/io/user_file.h"
#include "trainer/config/config_schema.h"
#include "trainer/config/config_value.h"

namespace medtrain::config::detail {
namespace {

bool in_bounds(const Constraint& c, double v) {
  if (c.lo && (c.lo_open ? !(v > *c.lo) : !(v >= *c.lo))) return false;
  if (c.hi && (c.hi_open ? !(v < *c.hi) : !(v <= *c.hi))) return false;
  return true;
}

std::string bounds_text(const Constraint& c) {
  std::string lo = c.lo ? fmt::format("{} {}", c.lo_open ? ">" : ">=", *c.lo) : "";
  std::string hi = c.hi ? fmt::format("{} {}", c.hi_open ? "<" : "<=", *c.hi) : "";
  if (!lo.empty() && !hi.empty()) return lo + " and " + hi;
  return lo + hi;
}

std::optional<std::string> check_string(const Constraint& c, const std::string& v) {
  if (!c.choices.empty() && std::find(c.choices.begin(), c.choices.end(), v) == c.choices.end()) {
    return fmt::format("must be one of {}; got {}", fmt::join(c.choices, ", "), quote(v));
  }
  if (c.non_empty && v.empty()) return std::string("must not be empty");
  if (c.path_component) {
    try {
      data::io::check_path_component(v, "name");
    } catch (const std::exception&) {
      return fmt::format("must be one folder name (no '/', not '.' or '..', no control character, <= 255 bytes), got {}",
                         quote(data::io::display_path(v)));
    }
  }
  return std::nullopt;
}

std::optional<std::string> check_list(const Constraint& c, const std::vector<std::string>& v) {
  std::set<std::string> seen;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (c.non_empty && v[i].empty()) return fmt::format("element {} must not be empty", i);
    if (c.distinct && !seen.insert(v[i]).second) {
      return fmt::format("element {} repeats {}; names must be distinct", i, quote(v[i]));
    }
  }
  return std::nullopt;
}

}  // namespace

Constraint& Constraint::lt(double v) {
  hi = v;
  hi_open = true;
  return *this;
}

Constraint& Constraint::le(double v) {
  hi = v;
  hi_open = false;
  return *this;
}

Constraint any() { return Constraint{}; }

Constraint ge(double v) {
  Constraint c;
  c.lo = v;
  return c;
}

Constraint gt(double v) {
  Constraint c = ge(v);
  c.lo_open = true;
  return c;
}

Constraint between(double lo, double hi) { return ge(lo).le(hi); }

Constraint one_of(std::vector<std::string> choices) {
  Constraint c;
  c.choices = std::move(choices);
  return c;
}

Constraint non_empty() {
  Constraint c;
  c.non_empty = true;
  return c;
}

Constraint folder_name() {
  Constraint c = non_empty();
  c.path_component = true;
  return c;
}

Constraint distinct_names() {
  Constraint c = non_empty();
  c.distinct = true;
  return c;
}

std::string type_name(KeyType type) {
  switch (type) {
    case KeyType::kInt:
      return "int";
    case KeyType::kFloat:
      return "float";
    case KeyType::kBool:
      return "bool";
    case KeyType::kString:
      return "string";
    case KeyType::kEnum:
      return "enum";
    case KeyType::kStringList:
      return "list of strings";
  }
  return "?";
}

std::string allowed_text(const KeySpec& spec) {
  const Constraint& c = spec.constraint;
  switch (spec.type) {
    case KeyType::kInt:
    case KeyType::kFloat: {
      const std::string bounds = bounds_text(c);
      if (spec.type == KeyType::kInt) return bounds.empty() ? "any integer" : bounds;
      return bounds.empty() ? "any finite number" : bounds;
    }
    case KeyType::kBool:
      return "true, false";
    case KeyType::kEnum:
      return fmt::format("{}", fmt::join(c.choices, ", "));
    case KeyType::kString:
      return c.non_empty ? "non-empty" : "any";
    case KeyType::kStringList:
      if (c.distinct) return "distinct non-empty strings";
      return c.non_empty ? "non-empty strings" : "any strings";
  }
  return "any";
}

std::optional<std::string> check_value(const KeySpec& spec, const Value& value) {
  const Constraint& c = spec.constraint;
  if (const auto* v = std::get_if<int64_t>(&value)) {
    if (!in_bounds(c, static_cast<double>(*v))) {
      return fmt::format("must be {}, got {}", bounds_text(c), *v);
    }
  } else if (const auto* v = std::get_if<double>(&value)) {
    if (!std::isfinite(*v)) return fmt::format("must be a finite number, got {}", *v);
    if (!in_bounds(c, *v)) return fmt::format("must be {}, got {}", bounds_text(c), *v);
    // Note [float32 keys]: floats are read as double but used as float32 tensors'
    // scalars; a value that rounds to 0 or infinity in float32 (std 1e-320,
    // mean 1e308) would pass as double and train on NaN.
    const float narrowed = static_cast<float>(*v);
    if (!std::isfinite(narrowed) || (*v != 0 && std::fpclassify(narrowed) != FP_NORMAL)) {
      return fmt::format("must be representable as a float32 (magnitude 1.2e-38 to 3.4e38), got {}", *v);
    }
  } else if (const auto* v = std::get_if<std::string>(&value)) {
    return check_string(c, *v);
  } else if (const auto* v = std::get_if<std::vector<std::string>>(&value)) {
    return check_list(c, *v);
  }
  return std::nullopt;
}

}  // namespace medtrain::config::detail
