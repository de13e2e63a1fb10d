// Progress output, read back from a tmpfile(): plain-line format and cadence,
// bar redraws without newlines, ETA formatting, style selection.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmath>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/trainer/metrics/test_util.h"
#include "trainer/metrics/progress.h"
#include "trainer/metrics/progress_format.h"

namespace medtrain::metrics {
namespace {

using testing::expect_throw_with;

// A tmpfile() whose whole content can be read back between writes.
class Capture {
 public:
  Capture() : file_(std::tmpfile()) {}
  ~Capture() { std::fclose(file_); }
  std::FILE* get() const { return file_; }
  std::string text() {
    std::fflush(file_);
    std::fseek(file_, 0, SEEK_SET);
    std::string out;
    for (int c; (c = std::fgetc(file_)) != EOF;) out.push_back(static_cast<char>(c));
    std::fseek(file_, 0, SEEK_END);  // back to writing
    return out;
  }

 private:
  std::FILE* file_;
};

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t begin = 0;
  for (size_t end; (end = text.find('\n', begin)) != std::string::npos; begin = end + 1) {
    lines.push_back(text.substr(begin, end - begin));
  }
  return lines;
}

StepReport report(int64_t step, int64_t total) {
  StepReport r;
  r.step = step;
  r.total_steps = total;
  r.epoch = 2;
  r.loss = 0.41234;
  r.lr = 9.512e-4;
  r.samples_per_s = 312.44;
  r.data_wait_fraction = 0.031;
  return r;
}

const char* kStats = "epoch 2 loss 0\\.4123 lr 9\\.51e-04 312\\.4 samples/s data-wait 3%";

TEST(Progress, PlainPrintsEveryNStepsAndTheLastStep) {
  Capture out;
  Progress progress(ProgressStyle::kPlain, 10, out.get());
  for (int64_t step = 1; step <= 25; ++step) progress.step(report(step, 25));
  progress.finish();
  const auto lines = split_lines(out.text());
  ASSERT_EQ(lines.size(), 3u) << out.text();
  const char* steps[] = {"10/25", "20/25", "25/25"};
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::regex want(std::string("step ") + steps[i] + " " + kStats +
                          " eta (\\d+:)?\\d{1,2}:\\d{2}");
    EXPECT_TRUE(std::regex_match(lines[i], want)) << lines[i];
  }
  EXPECT_TRUE(std::regex_search(lines[2], std::regex(" eta 0:00$"))) << lines[2];
  EXPECT_EQ(out.text().find('\r'), std::string::npos);
}

TEST(Progress, PlainWithoutTotalHasNoEta) {
  Capture out;
  Progress progress(ProgressStyle::kPlain, 5, out.get());
  for (int64_t step = 1; step <= 12; ++step) progress.step(report(step, 0));
  const auto lines = split_lines(out.text());
  ASSERT_EQ(lines.size(), 2u) << out.text();
  EXPECT_TRUE(std::regex_match(lines[0], std::regex(std::string("step 5 ") + kStats))) << lines[0];
  EXPECT_TRUE(std::regex_match(lines[1], std::regex(std::string("step 10 ") + kStats)))
      << lines[1];
}

TEST(Progress, BarRedrawsOneLineUntilLineOrFinish) {
  Capture out;
  Progress progress(ProgressStyle::kBar, 10, out.get());
  for (int64_t step = 1; step <= 5; ++step) progress.step(report(step, 10));
  std::string text = out.text();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\r'), 5) << text;
  EXPECT_EQ(text.find('\n'), std::string::npos) << text;
  const std::string last = text.substr(text.rfind('\r') + 1);
  const std::regex bar(std::string("\\[#{12}\\.{12}\\] 5/10 ") + kStats +
                       " eta (\\d+:)?\\d{1,2}:\\d{2}\x1b\\[K");
  EXPECT_TRUE(std::regex_match(last, bar)) << last;

  progress.line("eval auroc 0.91");
  text = out.text();
  ASSERT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  EXPECT_NE(text.find("\r\x1b[Keval auroc 0.91\n"), std::string::npos) << text;  // own line

  progress.step(report(10, 10));  // redrawn after the message, full bar
  text = out.text();
  EXPECT_EQ(text.substr(text.rfind('\n') + 1).rfind("\r[########################] 10/10 ", 0), 0u)
      << text;
  EXPECT_EQ(text.back(), 'K');  // no newline yet
  progress.finish();
  progress.finish();  // idempotent: one newline, not two
  text = out.text();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
  EXPECT_EQ(text.back(), '\n');
}

TEST(Progress, BarWithoutTotalShowsCountsOnly) {
  Capture out;
  Progress progress(ProgressStyle::kBar, 1, out.get());
  progress.step(report(7, 0));
  const std::string text = out.text();
  EXPECT_TRUE(std::regex_match(text, std::regex(std::string("\rstep 7 ") + kStats + "\x1b\\[K")))
      << text;
}

TEST(Progress, NonePrintsOnlyLines) {
  Capture out;
  Progress progress(ProgressStyle::kNone, 1, out.get());
  for (int64_t step = 1; step <= 3; ++step) progress.step(report(step, 3));
  progress.line("checkpoint written");
  progress.finish();
  EXPECT_EQ(out.text(), "checkpoint written\n");
}

TEST(Progress, EveryStepsMustBePositive) {
  Capture out;
  expect_throw_with<std::invalid_argument>(
      [&] { Progress progress(ProgressStyle::kPlain, 0, out.get()); }, "log.every_steps");
}

TEST(ProgressFormat, Duration) {
  EXPECT_EQ(detail::format_duration(0), "0:00");
  EXPECT_EQ(detail::format_duration(54), "0:54");
  EXPECT_EQ(detail::format_duration(59.6), "1:00");
  EXPECT_EQ(detail::format_duration(754), "12:34");
  EXPECT_EQ(detail::format_duration(3599), "59:59");
  EXPECT_EQ(detail::format_duration(3600), "1:00:00");
  EXPECT_EQ(detail::format_duration(3723), "1:02:03");
  EXPECT_EQ(detail::format_duration(100 * 3600 + 5), "100:00:05");
  EXPECT_EQ(detail::format_duration(std::nan("")), "--:--");
  EXPECT_EQ(detail::format_duration(-1), "--:--");
  EXPECT_EQ(detail::format_duration(INFINITY), "--:--");
}

TEST(ProgressFormat, EtaFromObservedRate) {
  EXPECT_DOUBLE_EQ(detail::eta_seconds(10, 5.0, 30), 15.0);  // 2 steps/s, 30 left
  EXPECT_DOUBLE_EQ(detail::eta_seconds(10, 5.0, 0), 0.0);
  EXPECT_TRUE(std::isnan(detail::eta_seconds(0, 5.0, 30)));  // no rate yet
  EXPECT_TRUE(std::isnan(detail::eta_seconds(10, 0.0, 30)));
}

TEST(ProgressFormat, PlainLineMatchesTheDocumentedExample) {
  StepReport r = report(120, 400);
  r.loss = 0.4123;
  r.lr = 9.51e-4;
  r.samples_per_s = 312.4;
  r.data_wait_fraction = 0.03;
  EXPECT_EQ(detail::format_plain_line(r, "0:54"),
            "step 120/400 epoch 2 loss 0.4123 lr 9.51e-04 312.4 samples/s data-wait 3% eta 0:54");
  r.loss = 12345.678;
  r.lr = 0.1;
  EXPECT_NE(detail::format_plain_line(r, "").find("loss 1.235e+04 lr 1.00e-01"),
            std::string::npos);
}

TEST(ProgressStyleFrom, NamesAndAuto) {
  Capture out;
  EXPECT_EQ(progress_style_from("bar", out.get()), ProgressStyle::kBar);
  EXPECT_EQ(progress_style_from("plain", out.get()), ProgressStyle::kPlain);
  EXPECT_EQ(progress_style_from("none", out.get()), ProgressStyle::kNone);
  EXPECT_EQ(progress_style_from("auto", out.get()), ProgressStyle::kPlain);  // not a tty
  expect_throw_with<std::invalid_argument>([&] { progress_style_from("fancy", out.get()); },
                                           "\"fancy\"");
  expect_throw_with<std::invalid_argument>([&] { progress_style_from("Bar", out.get()); },
                                           "auto, bar, plain or none");
}

TEST(ProgressStyleFrom, AutoOnATerminalIsBar) {
  const int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
    if (master >= 0) close(master);
    GTEST_SKIP() << "no pseudo-terminal available here";
  }
  std::FILE* tty = std::fopen(ptsname(master), "w");
  ASSERT_NE(tty, nullptr);
  EXPECT_EQ(progress_style_from("auto", tty), ProgressStyle::kBar);
  std::fclose(tty);
  close(master);
}

}  // namespace
}  // namespace medtrain::metrics
