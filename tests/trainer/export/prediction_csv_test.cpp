// infer's CSV: cells a spreadsheet would evaluate as formulas are escaped as
// OWASP recommends (Note [CSV formula injection] in prediction_writer.cpp).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "data/manifest.h"
#include "trainer/export/model_card.h"
#include "trainer/export/prediction_writer.h"

namespace medtrain::exporter {
namespace {

// The data row of a one-prediction CSV, split as RFC 4180 (quotes removed).
std::vector<std::string> data_row(const std::string& text) {
  const size_t start = text.find('\n') + 1;
  return data::split_csv_line(text.substr(start, text.rfind('\n') - start));
}

TEST(PredictionCsv, FormulaCellsArePrefixedAndQuoted) {
  for (const std::string lead : {"=", "+", "-", "@", "\t", "\r"}) {
    ModelCard card;
    card.labels = {"ok", lead + "HYPERLINK(\"http://x\",\"y\")"};
    Prediction p{lead + "cmd|' /C calc'!A0.dcm", 1, {0.25f, 0.75f}, {-1.f, 0.1f}};
    const std::string text = predictions_text("out.csv", {p}, card);
    const auto row = data_row(text);
    ASSERT_EQ(row.size(), 4u) << text;
    EXPECT_EQ(row[0], "'" + p.path) << text;
    EXPECT_EQ(row[1], "'" + card.labels[1]) << text;
    // The raw cells start with a quote character, never with the formula lead.
    const std::string line = text.substr(text.find('\n') + 1);
    EXPECT_EQ(line.rfind("\"'", 0), 0u) << line;
    EXPECT_NE(line.find(",\"'" + lead), std::string::npos) << line;
  }
}

TEST(PredictionCsv, PlainCellsStayAsBefore) {
  ModelCard card;
  card.labels = {"no", "yes"};
  Prediction p{"a/b-1.dcm", 0, {0.5f, 0.5f}, {0.f, 0.f}};
  const std::string text = predictions_text("out.csv", {p}, card);
  EXPECT_EQ(text.substr(text.find('\n') + 1), "a/b-1.dcm,no,0.5,0.5\n");
}

TEST(PredictionCsv, MultilabelAndMaskCellsAreEscaped) {
  ModelCard card;
  card.labels = {"=a", "b"};
  card.task = "multilabel";
  Prediction ml;
  ml.path = "x.dcm";
  ml.probabilities = {0.5f, 0.5f};
  ml.present = {0, 1};
  EXPECT_EQ(data_row(predictions_text("o.csv", {ml}, card))[1], "'=a|b");
  card.task = "segmentation";
  card.labels = {"background", "lesion"};
  Prediction seg;
  seg.path = "@b.dcm";
  seg.mask = "-masks/0.npy";
  seg.mask_shape = {4, 4};
  seg.pixels = {10, 6};
  const auto row = data_row(predictions_text("o.csv", {seg}, card));
  EXPECT_EQ(row[0], "'@b.dcm");
  EXPECT_EQ(row[1], "'-masks/0.npy");
}

// --saliency: the CSV's last column is the first format's file, the JSONL
// record names every format's; without it both stay as before.
TEST(PredictionCsv, SaliencyFilesAreNamed) {
  ModelCard card;
  card.labels = {"no", "yes"};
  Prediction p{"a.dcm", 1, {0.25f, 0.75f}, {0.f, 1.f}};
  p.saliency = {{"png", "pred_saliency/000000_a.png"}, {"dicom", "pred_saliency/000000_a.dcm"}};
  const std::string text = predictions_text("out.csv", {p}, card);
  EXPECT_EQ(text, "path,label,prob_no,prob_yes,saliency\na.dcm,yes,0.25,0.75,pred_saliency/000000_a.png\n");
  const auto j = nlohmann::json::parse(predictions_text("out.jsonl", {p}, card));
  EXPECT_EQ(j["saliency"],
            nlohmann::json({{"png", "pred_saliency/000000_a.png"}, {"dicom", "pred_saliency/000000_a.dcm"}}));
  p.saliency.clear();
  EXPECT_EQ(predictions_text("out.csv", {p}, card).find("saliency"), std::string::npos);
  EXPECT_FALSE(nlohmann::json::parse(predictions_text("out.jsonl", {p}, card)).contains("saliency"));
}

}  // namespace
}  // namespace medtrain::exporter
