// config_reference_markdown(): docs/config.md, generated from the key table.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "trainer/config/config_loader.h"
#include "trainer/config/config_schema.h"
#include "trainer/config/config_value.h"

namespace medtrain::config {
namespace {

constexpr const char* kIntro = R"(# Experiment config reference

<!-- Generated from trainer/config/config_schema.cpp; do not edit by hand.
     Regenerate with: medtrain config docs > docs/config.md -->

An experiment is one YAML file with a mapping per section (`run:`, `data:`, ...).
Every key is optional: a key left out keeps the default listed below.
`medtrain config check -c configs/x.yaml` validates a file and prints the
resolved config.

## Bases and overrides

- `base: other.yaml` at the top level loads `other.yaml` first (its path is
  relative to the file that names it); this file's keys then override the
  base's key by key, so a file lists only what differs. A base may have a base
  of its own; a cycle is an error. Each file is checked as it is read: a bad
  value in a base is an error even where a child sets the key again.
- `--set section.key=value` (repeatable) overrides one key after all files, in
  command-line order. The value is read as YAML: `--set optim.lr=3e-4`,
  `--set 'data.label_names=[normal, nodule]'`, `--set "run.name='007'"` (a
  string, not the number 7).

## Values

- `int` takes integers only (`3`, not `3.0`); `float` takes any finite number
  (`1e-3`, `2`); `bool` takes `true` or `false` (not `yes`/`no`).
- An empty value (`root:`) is the empty string for strings and the empty list
  for lists; for other types it is an error.
- Checks across keys: `data.label_names`, when given, has one name per class
  (`model.num_classes`); `optim.nesterov` with `optim.name: sgd` needs
  `optim.momentum > 0`.

## Errors

Any mistake stops loading with one line that names the key and where it was
written (file and line, or the `--set`):

```
optim.lr (configs/x.yaml:12): expected a number, got "fast"
optim.lr (configs/x.yaml:12): must be > 0, got -0.1
unknown key optim.lrr (configs/x.yaml:12); did you mean optim.lr?
unknown section optimm (configs/x.yaml:3); did you mean optim?
optim.lr (--set optim.lr=fast): expected a number, got "fast"
```
)";

std::string cell(const std::string& text) {
  std::string out;
  for (const char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string allowed_cell(const detail::KeySpec& spec) {
  if (spec.type != detail::KeyType::kEnum) return cell(detail::allowed_text(spec));
  std::vector<std::string> choices;
  for (const std::string& choice : spec.constraint.choices) choices.push_back("`" + choice + "`");
  return fmt::format("{}", fmt::join(choices, ", "));
}

}  // namespace

std::string config_reference_markdown() {
  const Config defaults;
  std::string out = kIntro;
  for (const detail::SectionSpec& section : detail::section_table()) {
    out += fmt::format("\n## {}\n\n{}.\n\n", section.name, section.doc);
    out += "| key | type | default | allowed | meaning |\n|---|---|---|---|---|\n";
    for (const detail::KeySpec& spec : detail::key_table()) {
      if (spec.section != section.name) continue;
      out += fmt::format(
          "| `{}` | {} | `{}` | {} | {} |\n", spec.path, detail::type_name(spec.type),
          cell(detail::format_value(spec.get(defaults))), allowed_cell(spec), cell(spec.doc));
    }
  }
  return out;
}

}  // namespace medtrain::config
