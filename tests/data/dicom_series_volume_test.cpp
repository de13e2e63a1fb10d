// read_series_volume: slices ordered by position along the slice normal (not by
// file name), spacing from the gaps, and every kind of inconsistent series a
// clear error naming the folder, the file and the attribute. resample_volume
// against a brute-force trilinear interpolation written here.
#include "data/dicom/series_volume.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "data/data_error.h"
#include "tests/data/test_files.h"

namespace medtrain::data {
namespace {

using testing::RawDicom;
using testing::TempDir;

struct SliceSpec {
  std::string name;
  double position[3] = {0, 0, 0};
  double orientation[6] = {1, 0, 0, 0, 1, 0};
  int rows = 3, cols = 4;
  uint16_t fill = 0;
  std::string series = "1.2.3";
};

std::string join(const double* v, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += (i ? "\\" : "") + std::to_string(v[i]);
  return s;
}

void write_slice(const std::filesystem::path& dir, const SliceSpec& s) {
  RawDicom r;
  r.rows = s.rows, r.cols = s.cols;
  for (int i = 0; i < s.rows * s.cols; ++i) r.values.push_back(static_cast<uint16_t>(s.fill * 100 + i));
  const std::string path = (dir / s.name).string();
  testing::write_raw_dicom(path, r);
  DcmFileFormat file;
  ASSERT_TRUE(file.loadFile(path.c_str()).good());
  DcmDataset* ds = file.getDataset();
  ds->putAndInsertString(DCM_ImagePositionPatient, join(s.position, 3).c_str());
  ds->putAndInsertString(DCM_ImageOrientationPatient, join(s.orientation, 6).c_str());
  ds->putAndInsertString(DCM_PixelSpacing, "0.5\\0.75");
  ds->putAndInsertString(DCM_SeriesInstanceUID, s.series.c_str());
  ASSERT_TRUE(file.saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
}

void expect_series_error(const std::string& folder, const std::vector<std::string>& parts) {
  try {
    read_series_volume(folder);
    ADD_FAILURE() << "no error for " << folder;
  } catch (const DataError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(folder), std::string::npos) << msg;
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

// Coronal slices (rows along +x, columns along -z): the normal is +y, so the
// order follows y, whatever the file names say.
TEST(SeriesVolume, SortsAlongTheNormal) {
  TempDir dir;
  const double ys[] = {5.0, -1.0, 2.0, 8.0};
  for (int k = 0; k < 4; ++k) {
    SliceSpec s;
    s.name = "slice" + std::to_string(k) + ".dcm";
    s.position[1] = ys[k];
    s.position[2] = 100 + k;  // in-plane offsets do not matter
    const double coronal[6] = {1, 0, 0, 0, 0, -1};
    std::copy(coronal, coronal + 6, s.orientation);
    s.fill = static_cast<uint16_t>(ys[k] + 10);  // each slice identifies its position
    write_slice(dir.path(), s);
  }
  const SeriesVolume v = read_series_volume(dir.str(""));
  ASSERT_EQ(v.voxels.sizes(), (std::vector<int64_t>{4, 3, 4}));
  const double sorted[] = {-1.0, 2.0, 5.0, 8.0};
  for (int d = 0; d < 4; ++d) {
    EXPECT_EQ(v.voxels[d][0][0].item<float>(), (sorted[d] + 10) * 100) << d;
    EXPECT_EQ(v.voxels[d][2][3].item<float>(), (sorted[d] + 10) * 100 + 11) << d;
  }
  EXPECT_DOUBLE_EQ(v.spacing[0], 3.0);
  EXPECT_DOUBLE_EQ(v.spacing[1], 0.5);
  EXPECT_DOUBLE_EQ(v.spacing[2], 0.75);
  EXPECT_DOUBLE_EQ(v.origin[1], -1.0);
}

TEST(SeriesVolume, InconsistentSeriesAreErrors) {
  TempDir dir;
  auto folder = [&](const std::string& name, std::vector<SliceSpec> slices) {
    const auto p = dir.path() / name;
    std::filesystem::create_directories(p);
    for (size_t k = 0; k < slices.size(); ++k) {
      if (slices[k].name.empty()) slices[k].name = "s" + std::to_string(k) + ".dcm";
      if (k > 0 && slices[k].position[2] == 0) slices[k].position[2] = static_cast<double>(k);
      write_slice(p, slices[k]);
    }
    return p.string();
  };
  SliceSpec big;
  big.rows = 5;
  expect_series_error(folder("sizes", {SliceSpec{}, big}), {"s1.dcm", "size 5x4"});
  SliceSpec tilted;
  const double t[6] = {1, 0, 0, 0, 0.8, 0.6};
  std::copy(t, t + 6, tilted.orientation);
  expect_series_error(folder("orient", {SliceSpec{}, tilted}), {"s1.dcm", "ImageOrientationPatient"});
  SliceSpec other;
  other.series = "9.9";
  expect_series_error(folder("series", {SliceSpec{}, other}), {"SeriesInstanceUID"});
  SliceSpec same;
  same.name = "dup.dcm";
  same.position[2] = 0.0;
  same.position[0] = 1e-9;  // k>0 would move it; keep it on slice 0's plane
  SliceSpec first;
  first.name = "a.dcm";
  {
    const auto p = dir.path() / "dup";
    std::filesystem::create_directories(p);
    write_slice(p, first);
    write_slice(p, same);
    expect_series_error(p.string(), {"same position"});
  }
  SliceSpec s2, s3;
  s2.position[2] = 1;
  s3.position[2] = 4;  // gaps 1 and 3: a missing slice
  {
    const auto p = dir.path() / "gap";
    std::filesystem::create_directories(p);
    SliceSpec a = first, b = s2, c = s3;
    b.name = "b.dcm", c.name = "c.dcm";
    write_slice(p, a);
    write_slice(p, b);
    write_slice(p, c);
    expect_series_error(p.string(), {"gap", "missing slice"});
  }
  std::filesystem::create_directories(dir.path() / "empty");
  EXPECT_THROW(read_series_volume(dir.str("empty")), DataError);
  EXPECT_THROW(read_series_volume(dir.str("nope")), DataError);
}

// Trilinear, align_corners=false, by hand: source coordinate (i + 0.5) * in/out - 0.5, clamped at 0.
float brute_trilinear(const torch::Tensor& v, const std::vector<int64_t>& out, int64_t z, int64_t y, int64_t x) {
  const int64_t dst[3] = {z, y, x};
  int64_t lo[3], hi[3];
  double w[3];
  for (int k = 0; k < 3; ++k) {
    const double in = static_cast<double>(v.size(k));
    double src = (dst[k] + 0.5) * in / static_cast<double>(out[k]) - 0.5;
    if (src < 0) src = 0;
    lo[k] = static_cast<int64_t>(std::floor(src));
    hi[k] = std::min<int64_t>(lo[k] + 1, v.size(k) - 1);
    w[k] = src - static_cast<double>(lo[k]);
  }
  double sum = 0;
  for (int c = 0; c < 8; ++c) {
    const int64_t iz = (c & 4) ? hi[0] : lo[0], iy = (c & 2) ? hi[1] : lo[1], ix = (c & 1) ? hi[2] : lo[2];
    const double wz = (c & 4) ? w[0] : 1 - w[0], wy = (c & 2) ? w[1] : 1 - w[1], wx = (c & 1) ? w[2] : 1 - w[2];
    sum += wz * wy * wx * v[iz][iy][ix].item<float>();
  }
  return static_cast<float>(sum);
}

TEST(SeriesVolume, ResampleToSpacing) {
  SeriesVolume v;
  v.voxels = torch::rand({4, 6, 5});
  v.spacing = {2.0, 1.0, 1.0};
  const SeriesVolume r = resample_volume(v, {1.0, 1.5, 0.5});
  const std::vector<int64_t> want = {8, 4, 10};  // round(4*2/1), round(6/1.5), round(5/0.5)
  ASSERT_EQ(r.voxels.sizes(), want);
  EXPECT_DOUBLE_EQ(r.spacing[0], 1.0);
  EXPECT_DOUBLE_EQ(r.spacing[1], 1.5);
  for (int64_t z = 0; z < want[0]; ++z) {
    for (int64_t y = 0; y < want[1]; ++y) {
      for (int64_t x = 0; x < want[2]; ++x) {
        ASSERT_NEAR(r.voxels[z][y][x].item<float>(), brute_trilinear(v.voxels, want, z, y, x), 1e-5) << z << y << x;
      }
    }
  }
  EXPECT_THROW(resample_volume(v, {0.0, 1.0, 1.0}), DataError);
}

}  // namespace
}  // namespace medtrain::data
