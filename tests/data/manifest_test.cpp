// read_manifest: good manifests parse into the rows written; every bad one
// stops with the manifest path, the line and the problem in the message.
#include "data/manifest.h"

#include <gtest/gtest.h>

#include "data/data_error.h"
#include "tests/data/test_files.h"

namespace medtrain::data {
namespace {

using testing::TempDir;
using testing::write_text;

class ManifestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* f : {"images/a.dcm", "images/b.dcm", "images/c.dcm", "images/d e.dcm"}) {
      write_text(dir_.path() / f, "x");
    }
  }
  Manifest read(const std::string& csv, const std::string& split = "") {
    write_text(dir_.path() / "manifest.csv", csv);
    ManifestOptions o;
    o.manifest_path = dir_.str("manifest.csv");
    o.split = split;
    o.label_names = label_names_;
    return read_manifest(o);
  }
  // Expects a DataError starting with "<manifest>:<line>: " holding `part`.
  void expect_error(const std::string& csv, int line, const std::string& part) {
    try {
      read(csv);
      ADD_FAILURE() << "no error for:\n" << csv;
    } catch (const DataError& e) {
      const std::string msg = e.what();
      const std::string where = dir_.str("manifest.csv") + (line > 0 ? ":" + std::to_string(line) : "") + ": ";
      EXPECT_EQ(msg.rfind(where, 0), 0u) << "expected prefix '" << where << "' in: " << msg;
      EXPECT_NE(msg.find(part), std::string::npos) << "'" << part << "' not in: " << msg;
    }
  }
  TempDir dir_;
  std::vector<std::string> label_names_;
};

TEST_F(ManifestTest, ParsesRowsQuotesAndExtraColumns) {
  const Manifest m = read(
      "\xEF\xBB\xBFsplit,path,extra,label,patient_id\r\n"
      "train,images/a.dcm,\"x,y\",0,P1\r\n"
      "\n"
      "val, \"images/d e.dcm\" ,\"say \"\"hi\"\"\",3,P2\n");
  ASSERT_EQ(m.rows.size(), 2u);
  EXPECT_EQ(m.rows[0].path, "images/a.dcm");
  EXPECT_EQ(m.rows[0].label, 0);
  EXPECT_EQ(m.rows[0].patient_id, "P1");
  EXPECT_EQ(m.rows[0].split, "train");
  EXPECT_EQ(m.rows[0].line, 2u);
  EXPECT_EQ(m.rows[1].path, "images/d e.dcm");
  EXPECT_EQ(m.rows[1].label, 3);
  EXPECT_EQ(m.rows[1].line, 4u);
  EXPECT_EQ(m.root, dir_.str());
}

TEST_F(ManifestTest, SplitFilter) {
  const std::string csv = "path,label,patient_id,split\nimages/a.dcm,0,P1,train\nimages/b.dcm,1,P2,val\n"
                          "images/c.dcm,1,P1,train\n";
  const Manifest train = read(csv, "train");
  ASSERT_EQ(train.rows.size(), 2u);
  EXPECT_EQ(train.rows[0].path, "images/a.dcm");
  EXPECT_EQ(train.rows[1].path, "images/c.dcm");
  EXPECT_EQ(read(csv, "val").rows.size(), 1u);
  EXPECT_TRUE(read(csv, "test").rows.empty());
  EXPECT_EQ(read(csv).rows.size(), 3u);
  EXPECT_TRUE(read("path,label\nimages/a.dcm,0\n", "val").rows.empty());  // no split column
}

TEST_F(ManifestTest, MissingFileNamesLineAndRoot) {
  expect_error("path,label\nimages/a.dcm,0\nimages/x.dcm,1\n", 3,
               "file images/x.dcm does not exist (root " + dir_.str() + ")");
}

TEST_F(ManifestTest, MissingColumn) {
  expect_error("path,patient_id\nimages/a.dcm,P1\n", 1, "no target column in header 'path,patient_id'");
  expect_error("file,label\nimages/a.dcm,0\n", 1, "missing required column 'path'");
}

TEST_F(ManifestTest, BadLabel) {
  expect_error("path,label\nimages/a.dcm,0\nimages/b.dcm,cat\n", 3, "bad label 'cat'");
  expect_error("path,label\nimages/a.dcm,-1\n", 2, "bad label '-1'");
  expect_error("path,label\nimages/a.dcm,1.5\n", 2, "bad label '1.5'");
  expect_error("path,label\nimages/a.dcm,\n", 2, "bad label ''");
}

TEST_F(ManifestTest, EmptyPathAndFieldCount) {
  expect_error("path,label\n,1\n", 2, "empty path");
  expect_error("path,label\nimages/a.dcm,1,extra\n", 2, "expected 2 fields");
  expect_error("path,label\n\"images/a.dcm,1\n", 2, "unterminated quote");
}

TEST_F(ManifestTest, MultilabelNamesAndIndicesBecomeBits) {
  label_names_ = {"atelectasis", "effusion", "nodule"};
  const Manifest m = read(
      "path,labels\nimages/a.dcm,effusion|nodule\nimages/b.dcm,\nimages/c.dcm, 0 | nodule \n");
  ASSERT_EQ(m.rows.size(), 3u);
  EXPECT_TRUE(m.has_labels);
  EXPECT_FALSE(m.has_label);
  EXPECT_EQ(m.rows[0].labels, 0b110u);
  EXPECT_EQ(m.rows[1].labels, 0u);  // empty = no finding
  EXPECT_EQ(m.rows[2].labels, 0b101u);
}

TEST_F(ManifestTest, MultilabelBadItems) {
  label_names_ = {"atelectasis", "effusion"};
  expect_error("path,labels\nimages/a.dcm,effusion|pneumonia\n", 2,
               "bad labels 'effusion|pneumonia': 'pneumonia' is not a label name (known: atelectasis, effusion)");
  expect_error("path,labels\nimages/a.dcm,2\n", 2, "'2' is out of range (0..1)");
  label_names_.clear();
  expect_error("path,labels\nimages/a.dcm,63\n", 2, "'63' is out of range (0..62)");
  expect_error("path,labels\nimages/a.dcm,0||1\n", 2, "'' is not a label name (no label names given)");
}

TEST_F(ManifestTest, MaskColumn) {
  write_text(dir_.path() / "masks/a.npy", "x");
  const Manifest m = read("path,mask\nimages/a.dcm,masks/a.npy\n");
  EXPECT_TRUE(m.has_mask);
  EXPECT_EQ(m.rows[0].mask, "masks/a.npy");
  expect_error("path,mask\nimages/a.dcm,masks/a.npy\nimages/b.dcm,masks/b.npy\n", 3,
               "mask masks/b.npy does not exist");
  expect_error("path,mask\nimages/a.dcm,\n", 2, "empty mask");
}

TEST_F(ManifestTest, SeriesFoldersWhenAsked) {
  write_text(dir_.path() / "series/P1/1.dcm", "x");
  write_text(dir_.path() / "m.csv", "path,label\nseries/P1,1\nseries/P2,0\n");
  ManifestOptions o;
  o.manifest_path = dir_.str("m.csv");
  o.paths_are_folders = true;
  try {
    read_manifest(o);
    ADD_FAILURE() << "no error for a missing series folder";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(":3: series folder series/P2 does not exist"), std::string::npos) << e.what();
  }
}

TEST_F(ManifestTest, DuplicatePath) {
  expect_error("path,label\nimages/a.dcm,0\nimages/b.dcm,0\nimages/./a.dcm,1\n", 4,
               "duplicate path images/./a.dcm (first on line 2)");
}

TEST_F(ManifestTest, PatientInTwoSplits) {
  expect_error(
      "path,label,patient_id,split\nimages/a.dcm,0,P1,train\nimages/b.dcm,0,P2,val\nimages/c.dcm,1,P1,val\n", 4,
      "patient P1 is in split 'val' here but in split 'train' on line 2");
}

TEST_F(ManifestTest, SplitThatWouldLeaveThePackFolder) {
  expect_error("path,label,split\nimages/a.dcm,0,train\nimages/b.dcm,0,../../x\n", 3, "cannot name a shard file");
}

TEST_F(ManifestTest, EmptyAndUnreadable) {
  expect_error("", 0, "empty manifest");
  expect_error("path,label\n", 0, "no data rows");
  ManifestOptions o;
  o.manifest_path = dir_.str("nope.csv");
  EXPECT_THROW(
      {
        try {
          read_manifest(o);
        } catch (const DataError& e) {
          EXPECT_NE(std::string(e.what()).find("manifest " + dir_.str("nope.csv") + ": does not exist"),
                    std::string::npos)
              << e.what();
          throw;
        }
      },
      DataError);
}

TEST_F(ManifestTest, ExplicitRootAndNoFileCheck) {
  write_text(dir_.path() / "sub" / "m.csv", "path,label\nimages/a.dcm,1\nimages/zz.dcm,0\n");
  ManifestOptions o;
  o.manifest_path = dir_.str("sub/m.csv");
  o.root = dir_.str();
  o.check_files = false;
  EXPECT_EQ(read_manifest(o).rows.size(), 2u);
  o.check_files = true;
  EXPECT_THROW(read_manifest(o), DataError);
}

TEST(SplitCsvLine, Fields) {
  EXPECT_EQ(split_csv_line("a, b ,\"c,d\",,\"e\"\"f\""),
            (std::vector<std::string>{"a", "b", "c,d", "", "e\"f"}));
  EXPECT_EQ(split_csv_line(""), (std::vector<std::string>{""}));
}

}  // namespace
}  // namespace medtrain::data
