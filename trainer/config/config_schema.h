#pragma once
// The key table: one entry per YAML key, the single source of truth for the
// config. Each entry binds a key path ("optim.lr") to one member of Config and
// carries its type, allowed values and one-line doc. The loader validates with
// it, to_yaml prints from it, config_reference_markdown documents from it, so
// a key cannot exist in one of them and be missing from another.
// Internal to trainer/config (and its tests).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "trainer/config/config.h"

namespace medtrain::config::detail {

enum class KeyType { kInt, kFloat, kBool, kString, kEnum, kStringList };

// Alternatives in the order of the member types they hold.
using Value = std::variant<int64_t, double, bool, std::string, std::vector<std::string>>;

// What a value may be, beyond its type. Bounds apply to int and float keys;
// choices to enum keys; non_empty to strings and to each element of a list.
struct Constraint {
  std::optional<double> lo;
  bool lo_open = false;  // true: value > lo; false: value >= lo
  std::optional<double> hi;
  bool hi_open = false;  // true: value < hi; false: value <= hi
  std::vector<std::string> choices;
  bool non_empty = false;
  bool distinct = false;  // lists: no repeated element
  bool path_component = false;  // strings that become one folder name (run.name)

  Constraint& lt(double v);  // adds an upper bound to a lower one: ge(0).lt(1)
  Constraint& le(double v);
};

Constraint any();
Constraint ge(double v);
Constraint gt(double v);
Constraint between(double lo, double hi);  // lo <= value <= hi
Constraint one_of(std::vector<std::string> choices);
Constraint non_empty();
Constraint distinct_names();  // lists of non-empty, distinct strings
Constraint folder_name();     // a non-empty string that is one plain path component

struct KeySpec {
  std::string section;
  std::string name;
  std::string path;  // section + "." + name
  KeyType type = KeyType::kString;
  Constraint constraint;
  std::string doc;
  std::function<Value(const Config&)> get;
  std::function<void(Config&, const Value&)> set;
};

struct SectionSpec {
  std::string name;
  std::string doc;
};

// Sections and keys in table order (the order of to_yaml and the docs).
const std::vector<SectionSpec>& section_table();
const std::vector<KeySpec>& key_table();

const KeySpec* find_key(std::string_view path);
bool is_section(std::string_view name);

// "int", "float", "bool", "string", "enum", "list of strings".
std::string type_name(KeyType type);
// Human text of what is allowed: "> 0", ">= 0 and < 1", "auto, cpu, cuda",
// "non-empty", "any". Used by the docs and, after "must be ", by errors.
std::string allowed_text(const KeySpec& spec);
// Why `value` breaks spec's constraint ("must be > 0, got -0.1"), or nullopt.
std::optional<std::string> check_value(const KeySpec& spec, const Value& value);

}  // namespace medtrain::config::detail
