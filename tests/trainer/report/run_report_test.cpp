// medtrain report on hand-made run folders: what the page holds (config,
// final metrics, curves, the latest image of each tag, PR curves), that every
// picture is a PNG data: URI that decodes to its stated size, that the run's
// text is escaped, and the bad folders.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "tests/common/temp_dir.h"
#include "trainer/metrics/event_file_writer.h"
#include "trainer/metrics/png_codec.h"
#include "trainer/metrics/pr_curve.h"
#include "trainer/report/run_report.h"
#include "trainer/user_error.h"

namespace fs = std::filesystem;

namespace medtrain::report {
namespace {

using medtrain::testing::TempDir;

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A gradient image whose pixels say which one it is.
metrics::RasterImage picture(int64_t w, int64_t h, uint8_t seed) {
  metrics::RasterImage image(w, h, 3);
  for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<uint8_t>(seed + i * 13);
  return image;
}

constexpr const char* kConfig = "run:\n  name: demo\n  output_dir: runs\nmodel:\n  arch: resnet18  # <not> & \"so\"\n";

// Three train steps, evaluations at 2 and 3 (val/auroc undefined: null).
constexpr const char* kMetrics =
    R"({"kind":"train","time":1796638000.0,"step":1,"epoch":0,"loss":0.9,"lr":0.1,"samples_per_s":10.0})" "\n"
    R"({"kind":"train","time":1796638001.0,"step":2,"epoch":0,"loss":0.7,"lr":0.05,"samples_per_s":11.0})" "\n"
    R"({"kind":"eval","time":1796638002.0,"step":2,"epoch":0,"val/loss":0.8,"val/accuracy":0.5,"val/auroc":null})" "\n"
    R"({"kind":"event","time":1796638002.5,"step":2,"event":"checkpoint","action":"saved"})" "\n"
    R"({"kind":"train","time":1796638003.0,"step":3,"epoch":1,"loss":0.4321,"lr":0.025,"samples_per_s":12.0})" "\n"
    R"({"kind":"eval","time":1796638004.0,"step":3,"epoch":1,"val/loss":0.6,"val/accuracy":0.75,"val/auroc":null})" "\n";

// tensorboard/: two steps of one image series, its tags carrying step and
// labels (the report shows step 3's), a second series, a PR curve; scalars
// too (ignored while metrics.jsonl exists).
void write_events(const fs::path& run, bool with_scalars) {
  metrics::EventFileWriter events(run / "tensorboard");
  events.add_image("train/batch step 3 (labels: b)", picture(40, 30, 2), 3);
  events.add_image("train/batch step 1 (labels: a)", picture(20, 10, 1), 1);
  events.add_image("val/<samples>", picture(300, 200, 3), 3);
  events.add_pr_curve("val/pr_curve/pneumonia",
                      metrics::pr_curve({0.1f, 0.4f, 0.35f, 0.8f}, {false, false, true, true}, 11), 3);
  if (with_scalars) {
    for (int64_t step = 1; step <= 3; ++step) {
      events.add_scalar("train/loss", 1.0 / step, step);
      events.add_scalar("train/lr", 0.1, step);
      events.add_scalar("train/samples_per_s", 10.0, step);  // not a curve of the report
      if (step >= 2) events.add_scalar("val/accuracy", 0.25 * step, step);
    }
  }
  events.flush();
}

fs::path make_run(const TempDir& tmp, bool with_metrics = true, bool with_scalars = false) {
  const fs::path run = tmp.path() / "runs" / "demo";
  fs::create_directories(run);
  std::ofstream(run / "config.yaml") << kConfig;
  if (with_metrics) std::ofstream(run / "metrics.jsonl") << kMetrics;
  write_events(run, with_scalars);
  return run;
}

struct Img {
  std::string alt;
  int64_t width, height;
  metrics::RasterImage decoded;
};

std::string base64_decode(const std::string& text) {
  std::string bytes(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  EXPECT_GE(n, 0) << "not base64";
  const size_t pad = text.size() >= 2 ? (text[text.size() - 1] == '=') + (text[text.size() - 2] == '=') : 0;
  bytes.resize(std::max<int64_t>(0, n - static_cast<int64_t>(pad)));
  return bytes;
}

// Every <img> of the page with its picture decoded from the data: URI.
std::vector<Img> images_of(const std::string& html) {
  static const std::regex img(
      R"re(<img(?: class="pixels")? src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="([^"]*)" width="(\d+)" height="(\d+)">)re");
  std::vector<Img> out;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), img); it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    out.push_back({m[2], std::stoll(m[3]), std::stoll(m[4]), metrics::decode_png(base64_decode(m[1]), m[2])});
  }
  return out;
}

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

template <typename Fn>
std::string user_error_of(Fn&& fn) {
  try {
    fn();
  } catch (const UserError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a UserError";
  return "";
}

TEST(RunReport, ThePageHoldsConfigFinalMetricsCurvesPrCurveAndTheLatestImages) {
  TempDir tmp;
  const fs::path run = make_run(tmp);
  const fs::path out = write_run_report(run, run / "report.html");
  EXPECT_EQ(out, run / "report.html");
  const std::string html = read_text(out);

  EXPECT_NE(html.find("<h1>demo</h1>"), std::string::npos);
  EXPECT_NE(html.find("2026-12-07"), std::string::npos);  // when: 1796638000 s
  // The config, escaped, in a <pre>.
  EXPECT_NE(html.find("<pre>run:\n  name: demo"), std::string::npos);
  EXPECT_NE(html.find("# &lt;not&gt; &amp; &quot;so&quot;"), std::string::npos);
  // The last train and last eval records.
  EXPECT_NE(html.find("Last training step (step 3)"), std::string::npos);
  EXPECT_NE(html.find("<th>loss</th><td class=\"value\">0.4321</td>"), std::string::npos);
  EXPECT_NE(html.find("Last evaluation (step 3)"), std::string::npos);
  EXPECT_NE(html.find("<th>val/accuracy</th><td class=\"value\">0.75</td>"), std::string::npos);
  EXPECT_NE(html.find("<th>val/auroc</th><td class=\"value\">nan</td>"), std::string::npos);

  const auto imgs = images_of(html);
  ASSERT_EQ(imgs.size(), count(html, "<img"));  // every <img> is a PNG data: URI
  std::vector<std::string> alts;
  for (const auto& i : imgs) alts.push_back(i.alt);
  // Curves: loss, lr, val/accuracy, val/loss (val/auroc has no finite value);
  // one PR chart; the step-3 image of each tag.
  EXPECT_EQ(alts, (std::vector<std::string>{"train/loss (3 points)", "train/lr (3 points)",
                                            "val/accuracy (2 points)", "val/loss (2 points)",
                                            "precision-recall at step 3", "train/batch step 3 (labels: b) (step 3)",
                                            "val/&lt;samples&gt; (step 3)"}));
  for (const auto& i : imgs) {
    // Shown at its size, or enlarged by a whole factor (small images).
    ASSERT_GT(i.decoded.width, 0);
    EXPECT_EQ(i.width % i.decoded.width, 0) << i.alt;
    EXPECT_EQ(i.width / i.decoded.width, i.height / i.decoded.height) << i.alt;
  }
  EXPECT_EQ(imgs[5].decoded.pixels, picture(40, 30, 2).pixels);
  EXPECT_EQ(imgs[5].width, 280);  // 40 px shown 7x: at least 256
  EXPECT_EQ(imgs[6].decoded.pixels, picture(300, 200, 3).pixels);
  EXPECT_EQ(imgs[6].width, 300);
  EXPECT_NE(html.find("curve val/auroc: no finite value logged"), std::string::npos);

  // Self-contained: nothing fetched, nothing run.
  EXPECT_EQ(html.find("http:"), std::string::npos);
  EXPECT_EQ(html.find("https:"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
}

TEST(RunReport, WithoutMetricsJsonlTheCurvesAndTablesComeFromTheEventFiles) {
  TempDir tmp;
  const fs::path run = make_run(tmp, /*with_metrics=*/false, /*with_scalars=*/true);
  const std::string html = read_text(write_run_report(run, tmp.path() / "r.html"));
  std::vector<std::string> alts;
  for (const auto& i : images_of(html)) alts.push_back(i.alt);
  EXPECT_EQ(alts, (std::vector<std::string>{"train/loss (3 points)", "train/lr (3 points)", "val/accuracy (2 points)",
                                            "precision-recall at step 3", "train/batch step 3 (labels: b) (step 3)",
                                            "val/&lt;samples&gt; (step 3)"}));
  EXPECT_NE(html.find("<th>val/accuracy</th><td class=\"value\">0.75</td>"), std::string::npos);
  EXPECT_NE(html.find("<th>train/loss</th><td class=\"value\">0.333333</td>"), std::string::npos);
  EXPECT_NE(html.find("curves and final metrics come from the TensorBoard event files"), std::string::npos);
}

TEST(RunReport, RewritesTheReportInPlaceAndLeavesNoTemporaryFile) {
  TempDir tmp;
  const fs::path run = make_run(tmp);
  std::ofstream(run / "report.html") << "old";
  write_run_report(run, run / "report.html");
  EXPECT_NE(read_text(run / "report.html").find("<!DOCTYPE html>"), std::string::npos);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(run)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"config.yaml", "metrics.jsonl", "report.html", "tensorboard"}));
}

TEST(RunReport, ACutShortLastLineIsLeftOutWithANote) {
  TempDir tmp;
  const fs::path run = make_run(tmp);
  std::ofstream(run / "metrics.jsonl", std::ios::app) << R"({"kind":"train","time":17966)";
  const std::string html = read_text(write_run_report(run, run / "report.html"));
  EXPECT_NE(html.find("metrics.jsonl: line 7 is cut short"), std::string::npos);
  EXPECT_NE(html.find("Last training step (step 3)"), std::string::npos);
}

TEST(RunReport, RefusesFoldersThatAreNotRunsNamingThem) {
  TempDir tmp;
  const fs::path missing = tmp.path() / "nope";
  EXPECT_NE(user_error_of([&] { write_run_report(missing, missing / "report.html"); })
                .find(missing.string() + " does not exist"),
            std::string::npos);
  const fs::path file = tmp.write("file.txt", "x");
  EXPECT_NE(user_error_of([&] { write_run_report(file, tmp.path() / "r.html"); }).find("is not a folder"),
            std::string::npos);
  const fs::path empty = tmp.path() / "empty";
  fs::create_directories(empty / "tensorboard");
  EXPECT_NE(user_error_of([&] { write_run_report(empty, empty / "report.html"); })
                .find(empty.string() + " is not a run folder"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(empty / "report.html"));
}

TEST(RunReport, ARunFolderWithNoEventsSaysSo) {
  TempDir tmp;
  const fs::path run = tmp.path() / "fresh";
  fs::create_directories(run);
  std::ofstream(run / "config.yaml") << kConfig;
  EXPECT_NE(user_error_of([&] { write_run_report(run, run / "report.html"); }).find("fresh has no events"),
            std::string::npos);
  std::ofstream(run / "metrics.jsonl") << "";
  { metrics::EventFileWriter only_the_file_version(run / "tensorboard"); }
  const std::string message = user_error_of([&] { write_run_report(run, run / "report.html"); });
  EXPECT_NE(message.find("has no events (metrics.jsonl is empty"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(run / "report.html"));
}

TEST(RunReport, ACorruptEventFileIsNamed) {
  TempDir tmp;
  const fs::path run = make_run(tmp);
  const fs::path bad = run / "tensorboard" / "events.out.tfevents.1.host.medtrain";
  std::ofstream(bad, std::ios::binary) << std::string("\x10\x00\x00\x00\x00\x00\x00\x00garbage", 15);
  const std::string message = user_error_of([&] { write_run_report(run, run / "report.html"); });
  EXPECT_NE(message.find("events.out.tfevents.1.host.medtrain"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(run / "report.html"));
}

TEST(RunReport, AnEventFileCutShortInItsLastRecordCostsOnlyThatRecord) {
  // What a run killed mid-write leaves: the page is written from the records
  // before the cut, with a note naming the file.
  TempDir tmp;
  const fs::path run = make_run(tmp);
  fs::path file;
  for (const auto& entry : fs::directory_iterator(run / "tensorboard")) file = entry.path();
  fs::resize_file(file, fs::file_size(file) - 3);  // the PR curve, written last, loses its CRC
  const std::string html = read_text(write_run_report(run, run / "report.html"));
  EXPECT_NE(html.find(file.filename().string() + ": record at byte"), std::string::npos);
  EXPECT_NE(html.find("cut short"), std::string::npos);
  EXPECT_NE(html.find("data:image/png;base64,"), std::string::npos);  // the images before the cut
}

TEST(RunReport, ABadMetricsLineIsNamedWithItsLine) {
  TempDir tmp;
  const fs::path run = make_run(tmp);
  std::ofstream(run / "metrics.jsonl") << "{\"kind\":\"train\",\"step\":1}\n[1, 2]\n{\"kind\":\"train\",\"step\":2}\n";
  const std::string message = user_error_of([&] { write_run_report(run, run / "report.html"); });
  EXPECT_NE(message.find("metrics.jsonl line 2: not a JSON object"), std::string::npos) << message;
}

TEST(RunReport, OutInAMissingFolderIsRefusedBeforeWriting) {
  TempDir tmp;
  const fs::path run = make_run(tmp);
  const fs::path out = tmp.path() / "no" / "such" / "report.html";
  const std::string message = user_error_of([&] { write_run_report(run, out); });
  EXPECT_NE(message.find("the folder " + (tmp.path() / "no" / "such").string() + " does not exist"),
            std::string::npos)
      << message;
  EXPECT_NE(user_error_of([&] { write_run_report(run, tmp.path()); }).find("is a folder"), std::string::npos);
}

}  // namespace
}  // namespace medtrain::report
