// The profile table, compiled in: basic_profile.tsv opens with R"tsv( and closes with
// )tsv", so the reviewed data file itself is the string literal and no generated
// copy can drift from it. Ninja's depfile makes an edit of the TSV rebuild this file.
#include "data/deid/profile_table.h"

namespace medtrain::data::deid {

const char* basic_profile_tsv() {
  static const char* const kText =
#include "data/deid/basic_profile.tsv"
      ;
  return kText;
}

}  // namespace medtrain::data::deid
