#pragma once
// The text of data/deid/basic_profile.tsv as compiled into the binary.
namespace medtrain::data::deid {

const char* basic_profile_tsv();

}  // namespace medtrain::data::deid
