// PALETTE COLOR: a missing table is one DataError naming the file and the tag;
// lookups, clamping and segmented tables against values worked out by hand
// from PS3.3 C.7.6.3.1.5 and C.7.9.2 (the real-file checks are the pydicom
// parity corpus: dicom_corpus.py writes palette files of every kind). And
// data.colour rgb: the three channels go through the grey pipeline each.
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcvrus.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "data/data_error.h"
#include "data/dicom/colour_input.h"
#include "data/dicom/dicom_image.h"
#include "data/dicom/dicom_palette.h"
#include "tests/data/test_files.h"

namespace medtrain::data {
namespace {

using testing::RawDicom;
using testing::TempDir;
using testing::write_raw_dicom;

// 1 x 4 indices 0, 1, 2, 9 (8 bit) with 3-entry tables starting at index 1;
// `skip` names a table element left out.
std::string write_palette(const TempDir& dir, const DcmTagKey* skip = nullptr) {
  RawDicom r;
  r.rows = 1, r.cols = 4, r.bits_allocated = 8, r.bits_stored = 8, r.photometric = "PALETTE COLOR";
  r.values = {0, 1, 2, 9};
  const std::string path = dir.str("palette.dcm");
  write_raw_dicom(path, r);
  DcmFileFormat file;
  EXPECT_TRUE(file.loadFile(path.c_str()).good());
  DcmDataset* ds = file.getDataset();
  const DcmTagKey descriptors[] = {DCM_RedPaletteColorLookupTableDescriptor, DCM_GreenPaletteColorLookupTableDescriptor,
                                   DCM_BluePaletteColorLookupTableDescriptor};
  const DcmTagKey data[] = {DCM_RedPaletteColorLookupTableData, DCM_GreenPaletteColorLookupTableData,
                            DCM_BluePaletteColorLookupTableData};
  const Uint16 tables[3][3] = {{100, 200, 300}, {7, 8, 9}, {65535, 0, 1}};
  for (int c = 0; c < 3; ++c) {
    if (skip == nullptr || !(*skip == descriptors[c])) {
      auto* d = new DcmUnsignedShort(DcmTag(descriptors[c], EVR_US));  // the dictionary says "US or SS"
      const Uint16 descriptor[3] = {3, 1, 16};                          // 3 entries from index 1, 16 bit
      EXPECT_TRUE(d->putUint16Array(descriptor, 3).good());
      EXPECT_TRUE(ds->insert(d, true).good());
    }
    if (skip == nullptr || !(*skip == data[c])) EXPECT_TRUE(ds->putAndInsertUint16Array(data[c], tables[c], 3).good());
  }
  EXPECT_TRUE(file.saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
  return path;
}

void expect_error(const std::string& path, const std::string& part) {
  try {
    read_dicom_image(path);
    ADD_FAILURE() << "no error for " << path;
  } catch (const DataError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(part), std::string::npos) << "'" << part << "' not in: " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

TEST(DicomPalette, LooksUpAndClampsIndices) {
  TempDir dir;
  const DicomImage img = read_dicom_image(write_palette(dir));
  ASSERT_EQ(img.pixels.sizes(), (std::vector<int64_t>{1, 1, 4, 3}));
  // Index 0 is below the first mapped value 1 -> entry 0; 9 is past the last -> entry 2.
  const std::vector<float> want = {100, 7, 65535, 100, 7, 65535, 200, 8, 0, 300, 9, 1};
  EXPECT_EQ(std::vector<float>(img.pixels.data_ptr<float>(), img.pixels.data_ptr<float>() + 12), want);
}

TEST(DicomPalette, MissingTableNamesFileAndTag) {
  TempDir dir;
  const DcmTagKey green = DCM_GreenPaletteColorLookupTableData;
  expect_error(write_palette(dir, &green), "without Green Palette Color Lookup Table Data (0028,1202)");
  const DcmTagKey descriptor = DCM_RedPaletteColorLookupTableDescriptor;
  expect_error(write_palette(dir, &descriptor), "Red Palette Color Lookup Table Descriptor (0028,1101)");
}

TEST(DicomPalette, SegmentedTables) {
  // Discrete 0, 10; linear to 20 over 4 (12.5, 15, 17.5, 20 -> half to even:
  // 12, 15, 18, 20); indirect: segment 0 again (0, 10); discrete 5.
  const std::vector<uint16_t> lut = detail::expand_segmented_lut({0, 2, 0, 10, 1, 4, 20, 2, 1, 0, 0, 0, 1, 5});
  EXPECT_EQ(lut, (std::vector<uint16_t>{0, 10, 12, 15, 18, 20, 0, 10, 5}));
  EXPECT_THROW(detail::expand_segmented_lut({1, 3, 9}), std::invalid_argument);  // linear first
  EXPECT_THROW(detail::expand_segmented_lut({0, 5, 1}), std::invalid_argument);   // runs past the data
  EXPECT_THROW(detail::expand_segmented_lut({7, 1, 1}), std::invalid_argument);   // unknown type
}

DicomDatasetOptions rgb_options() {
  DicomDatasetOptions o;
  o.image_size = 3, o.window_center = 127.5, o.window_width = 255, o.mean = 0.5, o.std = 0.25, o.rgb = true;
  return o;
}

TEST(ColourInput, ChannelsGoThroughTheGreyPipelineEach) {
  DicomImage img;
  img.pixels = torch::rand({1, 5, 6, 3}) * 255;
  Augmentation a;
  a.flip = true, a.scale = 1.1, a.offset = 0.02;
  const DicomDatasetOptions o = rgb_options();
  const torch::Tensor x = preprocess_rgb(img, o, a);
  ASSERT_EQ(x.sizes(), (std::vector<int64_t>{3, 3, 3}));
  for (int64_t c = 0; c < 3; ++c) {
    EXPECT_TRUE(torch::equal(x[c], preprocess_hu(img.pixels[0].select(2, c).contiguous(), o, a)[0])) << c;
  }
  // Independent of preprocess_hu: windowing 0..255 to [0, 1], then (y - 0.5) / 0.25.
  DicomImage flat;
  flat.pixels = torch::tensor({0.f, 255.f, 51.f}).view({1, 1, 1, 3}).expand({1, 3, 3, 3}).contiguous();
  const torch::Tensor y = preprocess_rgb(flat, o);
  EXPECT_TRUE(torch::allclose(y.select(1, 1).select(1, 1), torch::tensor({-2.f, 2.f, -1.2f}), 1e-5, 1e-5)) << y;
}

TEST(ColourInput, GreyImagesAreReplicated) {
  DicomImage img;
  img.pixels = torch::rand({2, 4, 4}) * 255;
  const DicomDatasetOptions o = rgb_options();
  const torch::Tensor x = preprocess_rgb(img, o);
  ASSERT_EQ(x.sizes(), (std::vector<int64_t>{3, 3, 3}));
  const torch::Tensor grey = preprocess_hu(img.pixels[0].contiguous(), o)[0];
  for (int64_t c = 0; c < 3; ++c) EXPECT_TRUE(torch::equal(x[c], grey));
}

}  // namespace
}  // namespace medtrain::data
