// model.yaml round trip and errors, --format parsing, --in collection.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>

#include "trainer/export/export_bundle.h"
#include "trainer/export/infer_inputs.h"
#include "data/manifest.h"
#include "trainer/export/model_card.h"
#include "trainer/export/prediction_writer.h"
#include "trainer/user_error.h"

namespace medtrain::exporter {
namespace {

namespace fs = std::filesystem;

ModelCard sample_card() {
  ModelCard c;
  c.architecture = "resnet18";
  c.num_classes = 2;
  c.labels = {"no_lesion", "lesion"};
  c.preprocessing = {-600, 1500, true, 64, 0, 0.5, 0.25};
  c.step = 120;
  c.epoch = 3;
  c.config_sha256 = std::string(64, 'a');
  c.metrics = {{"val/accuracy", 0.1 + 0.2}, {"val/auroc", std::nan("")}};
  c.onnx_opset = 17;
  c.files = {{"model.safetensors", std::string(64, 'b')}};
  return c;
}

void expect_user_error(const std::function<void()>& f, const std::vector<std::string>& needles) {
  try {
    f();
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    for (const auto& n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
  }
}

TEST(ModelCard, RoundTripsEveryField) {
  const ModelCard c = sample_card();
  const ModelCard r = parse_model_card(model_card_yaml(c), "m.yaml");
  EXPECT_EQ(r.architecture, c.architecture);
  EXPECT_EQ(r.labels, c.labels);
  EXPECT_EQ(r.preprocessing.window_center, -600);
  EXPECT_TRUE(r.preprocessing.window_from_file);
  EXPECT_EQ(r.preprocessing.std, 0.25);
  EXPECT_EQ(r.step, 120);
  EXPECT_EQ(r.metrics.at("val/accuracy"), 0.1 + 0.2);  // shortest round-trip decimal
  EXPECT_TRUE(std::isnan(r.metrics.at("val/auroc")));
  EXPECT_EQ(r.onnx_opset, 17);
  EXPECT_EQ(r.files, c.files);
}

// data.colour: recorded as preprocessing.colour; older bundles without it read as luma.
TEST(ModelCard, ColourRoundTripsAndDefaultsToLuma) {
  ModelCard c = sample_card();
  c.in_channels = 3;
  c.preprocessing.colour = "rgb";
  EXPECT_EQ(parse_model_card(model_card_yaml(c), "m.yaml").preprocessing.colour, "rgb");
  std::string text = model_card_yaml(c);
  const auto at = text.find("  colour: rgb\n");
  ASSERT_NE(at, std::string::npos) << text;
  const std::string old = text.substr(0, at) + text.substr(text.find('\n', at) + 1);
  EXPECT_EQ(parse_model_card(old, "m.yaml").preprocessing.colour, "luma");
  c.in_channels = 1;  // rgb input into a 1-channel model
  expect_user_error([&] { parse_model_card(model_card_yaml(c), "c/model.yaml"); },
                    {"c/model.yaml:", "preprocessing.colour", "in_channels 3"});
  c.preprocessing.colour = "cmyk";
  expect_user_error([&] { parse_model_card(model_card_yaml(c), "c/model.yaml"); },
                    {"c/model.yaml:", "preprocessing.colour", "data.colour"});
}

TEST(ModelCard, ErrorsNameTheFileKeyAndLine) {
  std::string text = model_card_yaml(sample_card());
  const auto at = text.find("window_width:");
  std::string bad = text.substr(0, at) + "window_width: wide\n" + text.substr(text.find('\n', at) + 1);
  expect_user_error([&] { parse_model_card(bad, "b/model.yaml"); },
                    {"b/model.yaml:", "preprocessing.window_width", "expected a number"});
  ModelCard three = sample_card();
  three.labels.push_back("extra");
  expect_user_error([&] { parse_model_card(model_card_yaml(three), "m.yaml"); }, {"labels", "3 names"});
  expect_user_error([&] { parse_model_card("format: other/1\n", "m.yaml"); }, {"format", "medtrain-model/1"});
  expect_user_error([&] { parse_model_card("a: [", "m.yaml"); }, {"m.yaml:", "not valid YAML"});
}

TEST(ExportFormats, ParsesListsAndRejectsUnknownOnes) {
  const auto f = parse_formats(" onnx , safetensors");
  EXPECT_TRUE(f.onnx && f.safetensors);
  EXPECT_FALSE(parse_formats("onnx").safetensors);
  expect_user_error([] { parse_formats("onnx,tflite"); }, {"tflite", "safetensors, onnx"});
  expect_user_error([] { parse_formats("onnx,"); }, {"empty entry"});
}

class InferInputs : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("infer_inputs_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "b" / "c");
    for (const char* f : {"b/c/2.dcm", "a.dcm", "b/1.dcm"}) std::ofstream(root_ / f) << "x";
  }
  void TearDown() override { fs::remove_all(root_); }
  void write(const std::string& name, const std::string& text) {
    fs::create_directories((root_ / name).parent_path());
    std::ofstream(root_ / name) << text;
  }
  fs::path root_;
};

TEST_F(InferInputs, FolderIsRecursiveAndSorted) {
  const auto files = collect_inputs(root_ / "b");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0], (root_ / "b" / "1.dcm").string());
  EXPECT_EQ(files[1], (root_ / "b" / "c" / "2.dcm").string());
}

TEST_F(InferInputs, ManifestPathsResolveAgainstItsFolder) {
  write("m.csv", "label,path\n1,a.dcm\n0,\"b/1.dcm\"\n");
  const auto files = collect_inputs(root_ / "m.csv");
  EXPECT_EQ(files, (std::vector<std::string>{(root_ / "a.dcm").string(), (root_ / "b/1.dcm").string()}));
}

TEST_F(InferInputs, BadManifestsAndPathsNameWhere) {
  write("nopath.csv", "file,label\na.dcm,1\n");
  expect_user_error([&] { collect_inputs(root_ / "nopath.csv"); }, {"nopath.csv:1", "`path` column"});
  write("short.csv", "path,label\na.dcm,1\nb.dcm\n");
  expect_user_error([&] { collect_inputs(root_ / "short.csv"); }, {"short.csv:3", "1 fields"});
  expect_user_error([&] { collect_inputs(root_ / "missing"); }, {"missing", "no such file"});
  fs::create_directory(root_ / "empty");
  expect_user_error([&] { collect_inputs(root_ / "empty"); }, {"empty", "no files"});
}

TEST(Predictions, CsvQuotesPathsAndRoundTripsProbabilities) {
  Prediction p{"dir,with \"comma\"/a.dcm", 1, {0.25f, 0.75f}, {-1.f, 0.1f}};
  ModelCard card;
  card.labels = {"no", "yes"};
  const std::string text = predictions_text("out.csv", {p}, card);
  const auto header = data::split_csv_line(text.substr(0, text.find('\n')));
  EXPECT_EQ(header, (std::vector<std::string>{"path", "label", "prob_no", "prob_yes"}));
  const auto row = data::split_csv_line(text.substr(text.find('\n') + 1, text.rfind('\n') - text.find('\n') - 1));
  ASSERT_EQ(row.size(), 4u);
  EXPECT_EQ(row[0], p.path);
  EXPECT_EQ(row[1], "yes");
  EXPECT_EQ(std::stof(row[3]), 0.75f);
  expect_user_error([&] { predictions_text("out.txt", {p}, card); }, {"out.txt", ".jsonl"});
}

TEST(Predictions, MultilabelAndSegmentationColumns) {
  ModelCard card;
  card.labels = {"effusion", "nodule"};
  card.task = "multilabel";
  Prediction ml;
  ml.path = "a.dcm";
  ml.probabilities = {0.5f, 0.25f};
  ml.present = {0};
  EXPECT_EQ(predictions_text("o.csv", {ml}, card), "path,labels,prob_effusion,prob_nodule\na.dcm,effusion,0.5,0.25\n");
  const auto line = nlohmann::json::parse(predictions_text("o.jsonl", {ml}, card));
  EXPECT_EQ(line["labels"], nlohmann::json::array({"effusion"}));
  card.task = "segmentation";
  card.labels = {"background", "lesion"};
  Prediction seg;
  seg.path = "b.dcm";
  seg.mask = "o_masks/000000.npy";
  seg.mask_shape = {16, 32, 32};
  seg.pixels = {16000, 384};
  EXPECT_EQ(predictions_text("o.csv", {seg}, card),
            "path,mask,shape,pixels_background,pixels_lesion\nb.dcm,o_masks/000000.npy,16x32x32,16000,384\n");
  const auto s = nlohmann::json::parse(predictions_text("o.jsonl", {seg}, card));
  EXPECT_EQ(s["pixels"]["lesion"], 384);
  EXPECT_EQ(s["shape"], nlohmann::json::array({16, 32, 32}));
}

TEST_F(InferInputs, SeriesAreTheFoldersThatHoldFiles) {
  write("vols/P1/1.dcm", "x");
  write("vols/P1/2.dcm", "x");
  write("vols/P2/1.dcm", "x");
  EXPECT_EQ(collect_series(root_ / "vols"),
            (std::vector<std::string>{(root_ / "vols/P1").string(), (root_ / "vols/P2").string()}));
  EXPECT_EQ(collect_series(root_ / "vols/P1"), (std::vector<std::string>{(root_ / "vols/P1").string()}));
  expect_user_error([&] { collect_series(root_ / "vols/P1/1.dcm"); }, {"1.dcm", "takes volumes"});
}

}  // namespace
}  // namespace medtrain::exporter
