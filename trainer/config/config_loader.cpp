#include "trainer/config/config_loader.h"

#include <fmt/format.h>

#include <map>

#include "trainer/config/config_schema.h"
#include "trainer/config/config_source.h"
#include "trainer/config/config_value.h"

namespace medtrain::config {
namespace {

using detail::Assignment;
using detail::KeySpec;
using detail::Location;

// The config being built, and where each key's current value came from.
struct Resolved {
  Config config;
  std::map<std::string, Location> origins;

  Location origin(const std::string& path) const {
    const auto it = origins.find(path);
    return it == origins.end() ? Location{} : it->second;
  }
};

void apply(Resolved& r, const Assignment& a) {
  const detail::Value value = detail::parse_value(*a.spec, a.node, a.where);
  if (auto why = detail::check_value(*a.spec, value))
    throw detail::key_error(a.spec->path, a.where, *why);
  a.spec->set(r.config, value);
  r.origins[a.spec->path] = a.where;
}

// Values are checked as they are applied; this also covers the defaults.
void check_every_key(const Resolved& r) {
  for (const KeySpec& spec : detail::key_table()) {
    if (auto why = detail::check_value(spec, spec.get(r.config))) {
      throw detail::key_error(spec.path, r.origin(spec.path), *why);
    }
  }
}

// Rules that involve two keys; the message names both and where each was set.
void check_across_keys(const Resolved& r) {
  const Config& c = r.config;
  const auto n_names = static_cast<int64_t>(c.data.label_names.size());
  // Token tagging names entity types; each is tagged B- and I-, plus O.
  const bool tagging = c.model.task == "token_classification";
  const int64_t classes = tagging ? 2 * n_names + 1 : n_names;
  if (tagging && (n_names == 0 || classes != c.model.num_classes)) {
    throw detail::key_error(
        "data.label_names", r.origin("data.label_names"),
        fmt::format("has {} entity types, tagged B-/I- each plus O, so model.num_classes ({}) must be {}, not {}",
                    n_names, r.origin("model.num_classes").str(), classes, c.model.num_classes));
  }
  if (!tagging && n_names != 0 && n_names != c.model.num_classes) {
    throw detail::key_error(
        "data.label_names", r.origin("data.label_names"),
        fmt::format(
            "has {} names but model.num_classes ({}) is {}; give one name per class or none",
            n_names, r.origin("model.num_classes").str(), c.model.num_classes));
  }
  if (c.optim.name == "sgd" && c.optim.nesterov && c.optim.momentum == 0.0) {
    throw detail::key_error("optim.nesterov", r.origin("optim.nesterov"),
                            fmt::format("needs optim.momentum > 0, but optim.momentum ({}) is 0",
                                        r.origin("optim.momentum").str()));
  }
}

Config resolve(const std::vector<Assignment>& from_files,
               const std::vector<std::string>& overrides) {
  Resolved r;
  for (const Assignment& a : from_files) apply(r, a);
  for (const std::string& text : overrides) apply(r, detail::parse_override(text));
  check_every_key(r);
  check_across_keys(r);
  return r.config;
}

}  // namespace

Config load_config(const std::filesystem::path& file, const std::vector<std::string>& overrides) {
  return resolve(detail::read_config_file(file), overrides);
}

Config config_from_overrides(const std::vector<std::string>& overrides) {
  return resolve({}, overrides);
}

std::string to_yaml(const Config& config) {
  std::string out;
  for (const detail::SectionSpec& section : detail::section_table()) {
    if (!out.empty()) out += "\n";
    out += section.name + ":\n";
    for (const KeySpec& spec : detail::key_table()) {
      if (spec.section != section.name) continue;
      out += fmt::format("  {}: {}\n", spec.name, detail::format_value(spec.get(config)));
    }
  }
  return out;
}

}  // namespace medtrain::config
