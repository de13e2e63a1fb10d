// Progress lines of loops other than training (`medtrain infer`): the counter
// named instead of "step" and the caller's stats instead of the training ones.
#include <gtest/gtest.h>

#include "trainer/metrics/progress_format.h"

namespace medtrain::metrics::detail {
namespace {

TEST(ProgressCounter, InferLinesNameWhatIsCountedAndItsRate) {
  StepReport r;
  r.counter = "series";
  r.step = 3;
  r.total_steps = 12;
  r.stats = "0.50 series/s";
  EXPECT_EQ(format_plain_line(r, "0:18"), "series 3/12 0.50 series/s eta 0:18");
  EXPECT_EQ(format_bar_line(r, "0:18"), "[######..................] series 3/12 0.50 series/s eta 0:18");
  StepReport training;  // the defaults keep the training line as it was
  training.step = 2;
  EXPECT_EQ(format_plain_line(training, "").rfind("step 2 epoch 0 loss", 0), 0u) << format_plain_line(training, "");
}

}  // namespace
}  // namespace medtrain::metrics::detail
