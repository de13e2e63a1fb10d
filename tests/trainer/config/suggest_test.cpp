// Edit distance against textbook values, and the suggestions built on it.
#include <gtest/gtest.h>

#include "trainer/config/config_suggest.h"

namespace medtrain::config::detail {
namespace {

TEST(ConfigSuggest, EditDistanceTextbookValues) {
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("flaw", "lawn"), 2u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("same", "same"), 0u);
  EXPECT_EQ(edit_distance("ab", "ba"), 2u);  // no transposition step
}

TEST(ConfigSuggest, Keys) {
  EXPECT_EQ(suggest_key("optim.lrr"), "optim.lr");
  EXPECT_EQ(suggest_key("optim.weight_decy"), "optim.weight_decay");
  EXPECT_EQ(suggest_key("data.imagesize"), "data.image_size");
  EXPECT_EQ(suggest_key("run.batch_size"), "optim.batch_size");  // right key, wrong section
  EXPECT_EQ(suggest_key("every_steps"), std::nullopt);           // in two sections: no guess
  EXPECT_EQ(suggest_key("completely.different"), std::nullopt);
}

TEST(ConfigSuggest, Sections) {
  EXPECT_EQ(suggest_section("optimm"), "optim");
  EXPECT_EQ(suggest_section("chekpoint"), "checkpoint");
  EXPECT_EQ(suggest_section("lr"), "optim.lr");
  EXPECT_EQ(suggest_section("zzzzzz"), std::nullopt);
}

}  // namespace
}  // namespace medtrain::config::detail
