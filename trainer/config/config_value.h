#pragma once
// Converting between YAML nodes / YAML text and typed key values.
#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>

#include "trainer/config/config_location.h"
#include "trainer/config/config_schema.h"

namespace medtrain::config::detail {

// The typed value of `node` for `spec`, or a ConfigError naming spec.path and
// `where` ("expected an integer, got \"1.5\""). Checks the type only; the
// constraint is check_value's job. A null node (`key:` with nothing after it)
// is the empty string for string keys and the empty list for list keys.
Value parse_value(const KeySpec& spec, const YAML::Node& node, const Location& where);

// `value` as YAML text that parse_value reads back to the same value: floats
// in shortest round-trip form, strings quoted only when plain YAML would
// misread them, lists in flow style ("[a, \"b c\"]").
std::string format_value(const Value& value);

// What a node is, for "expected ..., got <this>": "a list", "a mapping",
// "nothing" or the quoted scalar.
std::string describe(const YAML::Node& node);

// A string for an error message: double-quoted, escaped, long ones shortened.
std::string quote(std::string_view text);

}  // namespace medtrain::config::detail
