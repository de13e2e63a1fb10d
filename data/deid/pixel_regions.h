#pragma once
// Fixed rectangles to blank by device and image size, like RSNA CTP's pixel
// anonymizer scripts: some devices print demographics at known places, in
// fonts or sizes OCR may miss. A YAML file (configs/deid/pixel_regions.yaml):
//
//   rules:
//     - id: acme-us-header            # named in the audit as "rule:acme-us-header"
//       manufacturer: ACME            # case-insensitive, surrounding spaces ignored
//       model: SonoX 5                # optional (ManufacturerModelName)
//       rows: 600                     # optional: the image size the boxes are for
//       columns: 800
//       boxes: [[0, 0, 800, 40]]      # x, y, width, height in stored pixels
//
// A rule applies when every key it gives matches the file. Boxes are clipped to
// the image. Thread-safe once loaded (read-only).
#include <array>
#include <optional>
#include <string>
#include <vector>

namespace medtrain::data::deid {

struct RegionRule {
  std::string id, manufacturer, model;
  std::optional<long> rows, columns;
  std::vector<std::array<int, 4>> boxes;  // x, y, w, h
};

struct RegionRules {
  std::vector<RegionRule> rules;
  std::string source;  // the file it came from ("" when none)

  // Throws DataError naming file:line and the key for a malformed file.
  static RegionRules load(const std::string& path);
  static RegionRules parse(const std::string& yaml_text, const std::string& source);

  // The rules that apply to a file with these attribute values (as stored).
  std::vector<const RegionRule*> matching(const std::string& manufacturer, const std::string& model, long rows,
                                          long columns) const;
};

}  // namespace medtrain::data::deid
