// The synthetic CT generator: the manifest agrees with the options (counts,
// exact positive share, patient-level split), the files are the CT images we
// claim (read back with DCMTK, not with our decoder), the output is a pure
// function of the seed, and the lesion survives resizing to 64x64.
#include "data/dicom/synthetic_dicom.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "data/data_error.h"
#include "data/dicom/dicom_dataset.h"
#include "data/dicom/dicom_image.h"
#include "data/manifest.h"
#include "data/dicom/synthetic_phantom.h"
#include "tests/data/test_files.h"

namespace medtrain::data {
namespace {

using testing::TempDir;

SyntheticOptions small(const std::string& out, uint64_t seed = 7) {
  SyntheticOptions o;
  o.out_dir = out;
  o.count = 12;
  o.patients = 4;
  o.image_size = 64;
  o.val_fraction = 0.25;
  o.seed = seed;
  return o;
}

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string str(DcmDataset* ds, const DcmTagKey& key) {
  OFString v;
  ds->findAndGetOFStringArray(key, v);
  return v.c_str();
}

TEST(SyntheticDicom, ManifestMatchesOptions) {
  TempDir dir;
  const SyntheticSummary sum = write_synthetic_dataset(small(dir.str()));
  EXPECT_EQ(sum.manifest_path, dir.str("manifest.csv"));
  EXPECT_EQ(read_all(sum.manifest_path).rfind("path,label,patient_id,split\n", 0), 0u);
  ManifestOptions mo;
  mo.manifest_path = sum.manifest_path;
  const Manifest m = read_manifest(mo);  // also checks files exist, one split per patient
  ASSERT_EQ(m.rows.size(), 12u);
  size_t positives = 0;
  std::map<std::string, std::set<std::string>> splits;
  std::map<std::string, size_t> slices;
  for (const ManifestRow& r : m.rows) {
    positives += r.label;
    EXPECT_TRUE(r.label == 0 || r.label == 1);
    splits[r.split].insert(r.patient_id);
    slices[r.patient_id]++;
    EXPECT_EQ(r.path.rfind("images/" + r.patient_id + "/", 0), 0u) << r.path;
  }
  EXPECT_EQ(positives, 6u);
  EXPECT_EQ(sum.positives, 6u);
  EXPECT_EQ(slices.size(), 4u);
  for (const auto& [p, n] : slices) EXPECT_EQ(n, 3u) << p;
  EXPECT_EQ(splits["val"].size(), 1u);
  EXPECT_EQ(splits["train"].size(), 3u);
  EXPECT_EQ(sum.val_patients, 1u);
  EXPECT_EQ(sum.train_images + sum.val_images, 12u);
  EXPECT_EQ(sum.val_images, 3u);
}

TEST(SyntheticDicom, FilesAreCtWithTheClaimedTransferSyntax) {
  TempDir dir;
  const SyntheticOptions o = small(dir.str());
  write_synthetic_dataset(o);
  ManifestOptions mo;
  mo.manifest_path = dir.str("manifest.csv");
  const Manifest m = read_manifest(mo);
  std::set<std::string> sops;
  std::map<std::string, std::set<std::string>> studies;  // patient -> study UIDs
  for (size_t k = 0; k < m.rows.size(); ++k) {
    DcmFileFormat f;
    ASSERT_TRUE(f.loadFile(dir.str(m.rows[k].path).c_str()).good());
    DcmDataset* ds = f.getDataset();
    EXPECT_EQ(DcmXfer(ds->getOriginalXfer()).getXferID(), transfer_syntax_uid(o.transfer_syntaxes[k % 3]));
    EXPECT_EQ(str(ds, DCM_Modality), "CT");
    EXPECT_EQ(str(ds, DCM_SOPClassUID), UID_CTImageStorage);
    EXPECT_EQ(str(ds, DCM_PhotometricInterpretation), "MONOCHROME2");
    EXPECT_EQ(str(ds, DCM_RescaleIntercept), "-1024");
    EXPECT_EQ(str(ds, DCM_PatientID), m.rows[k].patient_id);
    Uint16 v = 0;
    ASSERT_TRUE(ds->findAndGetUint16(DCM_BitsStored, v).good());
    EXPECT_EQ(v, 12);
    ASSERT_TRUE(ds->findAndGetUint16(DCM_BitsAllocated, v).good());
    EXPECT_EQ(v, 16);
    for (const DcmTagKey& key : {DCM_SOPInstanceUID, DCM_StudyInstanceUID, DCM_SeriesInstanceUID}) {
      const std::string uid = str(ds, key);
      EXPECT_TRUE(!uid.empty() && uid.size() <= 64 && uid.find_first_not_of("0123456789.") == std::string::npos) << uid;
    }
    EXPECT_TRUE(sops.insert(str(ds, DCM_SOPInstanceUID)).second);
    studies[m.rows[k].patient_id].insert(str(ds, DCM_StudyInstanceUID));
    EXPECT_FALSE(str(ds, DCM_PixelSpacing).empty());
    EXPECT_FALSE(str(ds, DCM_WindowCenter).empty());
  }
  std::set<std::string> all;
  for (const auto& [p, uids] : studies) {
    EXPECT_EQ(uids.size(), 1u) << "one study per patient: " << p;
    all.insert(*uids.begin());
  }
  EXPECT_EQ(all.size(), studies.size());
}

TEST(SyntheticDicom, DeterministicInTheSeed) {
  TempDir a, b, c;
  write_synthetic_dataset(small(a.str(), 7));
  write_synthetic_dataset(small(b.str(), 7));
  write_synthetic_dataset(small(c.str(), 8));
  EXPECT_EQ(read_all(a.str("manifest.csv")), read_all(b.str("manifest.csv")));
  ManifestOptions mo;
  mo.manifest_path = a.str("manifest.csv");
  bool any_differs = false;
  for (const ManifestRow& r : read_manifest(mo).rows) {
    const torch::Tensor pa = read_dicom_image(a.str(r.path)).pixels;
    EXPECT_TRUE(torch::equal(pa, read_dicom_image(b.str(r.path)).pixels)) << r.path;
    any_differs |= !torch::equal(pa, read_dicom_image(c.str(r.path)).pixels);
  }
  EXPECT_TRUE(any_differs);
}

// The phantom with and without the lesion differs only around the lesion, by
// soft tissue against lung, and the difference is still clear at 64x64.
TEST(SyntheticDicom, LesionIsInLungAndVisibleAt64) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    const Phantom with = render_ct_phantom(256, seed, seed * 31, true);
    const Phantom without = render_ct_phantom(256, seed, seed * 31, false);
    ASSERT_TRUE(with.lesion.present);
    EXPECT_GE(with.lesion.radius, 0.08 * 128 - 1e-9);
    const int64_t r0 = static_cast<int64_t>(with.lesion.center_row), c0 = static_cast<int64_t>(with.lesion.center_col);
    double inside_with = 0, inside_without = 0;
    int n = 0;
    for (int64_t dr = -3; dr <= 3; ++dr) {
      for (int64_t dc = -3; dc <= 3; ++dc, ++n) {
        inside_with += with.hu[(r0 + dr) * 256 + c0 + dc];
        inside_without += without.hu[(r0 + dr) * 256 + c0 + dc];
      }
    }
    EXPECT_GT(inside_with / n, 0.0) << "lesion is soft tissue, seed " << seed;
    EXPECT_LT(inside_without / n, -500.0) << "lesion sits in lung, seed " << seed;
    auto to_tensor = [](const Phantom& p) {
      std::vector<float> v(p.hu.begin(), p.hu.end());
      return torch::from_blob(v.data(), {256, 256}, torch::kFloat32).clone();
    };
    DicomDatasetOptions o;
    o.image_size = 64;
    o.window_center = -600;
    o.window_width = 1500;
    const torch::Tensor diff = preprocess_hu(to_tensor(with), o) - preprocess_hu(to_tensor(without), o);
    EXPECT_GT(diff.max().item<float>(), 0.4) << "seed " << seed;
  }
}

TEST(SyntheticDicom, BadOptionsAreNamed) {
  TempDir dir;
  auto expect = [&](SyntheticOptions o, const std::string& part) {
    try {
      write_synthetic_dataset(o);
      ADD_FAILURE() << "no error for " << part;
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  SyntheticOptions o = small(dir.str());
  o.count = 0;
  expect(o, "count must be >= 1");
  o = small(dir.str());
  o.patients = 13;
  expect(o, "patients must be in 1..count=12 (got 13)");
  o = small(dir.str());
  o.patients = 1;
  expect(o, "needs at least 2 patients");
  o = small(dir.str());
  o.image_size = 8;
  expect(o, "image size must be in 16..4096 (got 8)");
  o = small(dir.str());
  o.transfer_syntaxes.clear();
  expect(o, "no transfer syntax");
  EXPECT_EQ(parse_transfer_syntax("jpeg-ls"), TransferSyntax::kJpegLsLossless);
  EXPECT_EQ(parse_transfer_syntax(transfer_syntax_name(TransferSyntax::kRleLossless)), TransferSyntax::kRleLossless);
  EXPECT_THROW(parse_transfer_syntax("jpeg2000"), DataError);
}

}  // namespace
}  // namespace medtrain::data
