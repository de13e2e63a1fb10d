// write_secondary_capture on a synthetic CT slice (patient and study filled
// in) and a synthetic picture: the file is checked by pydicom in
// secondary_capture_check.py (SOP class, copied patient/study, new series,
// references to the source, pixels equal to the picture); the bad cases here:
// an existing target, a picture of the wrong shape, a source that is not
// DICOM or cannot be referenced. None leaves a file.
#include "trainer/export/secondary_capture.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>

#include "data/data_error.h"
#include "data/npy_writer.h"
#include "tests/data/test_files.h"
#include "trainer/user_error.h"

namespace medtrain::exporter {
namespace {

namespace fs = std::filesystem;
using data::testing::RawDicom;
using data::testing::TempDir;

// A CT slice with the patient and study attributes an SC must carry over.
void write_source(const fs::path& path, int frames = 1) {
  RawDicom r;
  r.rows = 6, r.cols = 5, r.frames = frames;
  r.values.assign(static_cast<size_t>(6 * 5 * frames), 100);
  data::testing::write_raw_dicom(path.string(), r);
  DcmFileFormat file;
  ASSERT_TRUE(file.loadFile(path.c_str()).good());
  DcmDataset* ds = file.getDataset();
  char uid[100];
  ds->putAndInsertString(DCM_SOPClassUID, UID_CTImageStorage);
  ds->putAndInsertString(DCM_Modality, "CT");
  ds->putAndInsertString(DCM_StudyInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_STUDY_UID_ROOT));
  ds->putAndInsertString(DCM_SeriesInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_SERIES_UID_ROOT));
  ds->putAndInsertString(DCM_PatientID, "RESEARCH0042");
  ds->putAndInsertString(DCM_PatientName, "Research^0042");
  ds->putAndInsertString(DCM_PatientBirthDate, "19700101");
  ds->putAndInsertString(DCM_PatientSex, "O");
  ds->putAndInsertString(DCM_StudyDate, "20240131");
  ds->putAndInsertString(DCM_StudyTime, "101500");
  ds->putAndInsertString(DCM_StudyID, "7");
  ds->putAndInsertString(DCM_AccessionNumber, "ACC123");
  ds->putAndInsertString(DCM_ReferringPhysicianName, "Doe^Jane");
  ASSERT_TRUE(file.saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
}

// Every pixel and channel different, so a transposed or planar layout shows.
metrics::RasterImage picture(int channels) {
  metrics::RasterImage p(7, 4, channels);
  for (size_t i = 0; i < p.pixels.size(); ++i) p.pixels[i] = static_cast<uint8_t>(i * 37 % 251);
  return p;
}

void save_npy(const metrics::RasterImage& p, const fs::path& path) {
  std::vector<int64_t> shape{p.height, p.width};
  if (p.channels > 1) shape.push_back(p.channels);
  data::write_npy_u8(path.string(), p.pixels.data(), shape);
}

template <typename E>
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "(no error)";
}

class SecondaryCapture : public ::testing::Test {
 protected:
  void SetUp() override {
    write_source(dir_.path() / "ct.dcm");
    fs::create_directories(dir_.path() / "out");
  }
  fs::path out(const std::string& name) const { return dir_.path() / "out" / name; }
  std::string check(const fs::path& source, const fs::path& sc, const metrics::RasterImage& p,
                    const std::string& series, int instance, const SecondaryCaptureInfo& info) {
    const fs::path npy = dir_.path() / (sc.stem().string() + ".npy");
    save_npy(p, npy);
    const auto run = data::testing::run_python_script(
        "tests/trainer/export/secondary_capture_check.py",
        source.string() + " " + sc.string() + " " + npy.string() + " " + series + " " + std::to_string(instance) +
            " '" + info.series_description + "' '" + info.derivation + "'");
    return run.status == 0 ? "" : run.output;
  }

  TempDir dir_;
};

SecondaryCaptureInfo info(const std::string& series = "", int instance = 1) {
  SecondaryCaptureInfo i;
  i.series_instance_uid = series;
  i.series_description = "medtrain Grad-CAM (resnet18)";
  i.derivation = "Grad-CAM of class lesion, layer4, over the model input";
  i.instance_number = instance;
  return i;
}

TEST_F(SecondaryCapture, PydicomReadsRgbAndGrayPictures) {
  char uid[100];
  const std::string series = dcmGenerateUniqueIdentifier(uid, SITE_SERIES_UID_ROOT);
  const fs::path source = dir_.path() / "ct.dcm";
  write_secondary_capture(source, picture(3), info(series, 1), out("rgb.dcm"));
  write_secondary_capture(source, picture(1), info(series, 2), out("gray.dcm"));
  EXPECT_EQ(check(source, out("rgb.dcm"), picture(3), series, 1, info()), "");
  EXPECT_EQ(check(source, out("gray.dcm"), picture(1), series, 2, info()), "");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_.path() / "out"), fs::directory_iterator()), 2);
}

// Without a series UID each file gets a new one; a multi-frame source is
// referenced by its first frame (what a 2D model reads).
TEST_F(SecondaryCapture, MultiFrameSourceAndGeneratedSeries) {
  const fs::path source = dir_.path() / "multi.dcm";
  write_source(source, 3);
  write_secondary_capture(source, picture(3), info("", 4), out("sc.dcm"));
  EXPECT_EQ(check(source, out("sc.dcm"), picture(3), "-", 4, info()), "");
}

TEST_F(SecondaryCapture, ExistingTargetIsKept) {
  data::testing::write_text(out("sc.dcm"), "keep me");
  const std::string msg = error_of<UserError>(
      [&] { write_secondary_capture(dir_.path() / "ct.dcm", picture(3), info(), out("sc.dcm")); });
  EXPECT_NE(msg.find(out("sc.dcm").string() + ": exists"), std::string::npos) << msg;
  std::ifstream in(out("sc.dcm"));
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "keep me");
}

TEST_F(SecondaryCapture, BadPictureIsRefused) {
  metrics::RasterImage rgba = picture(4), short_buffer = picture(3), empty;
  short_buffer.pixels.pop_back();
  for (const auto* p : {&rgba, &short_buffer, &empty}) {
    const std::string msg = error_of<UserError>(
        [&] { write_secondary_capture(dir_.path() / "ct.dcm", *p, info(), out("sc.dcm")); });
    EXPECT_NE(msg.find(out("sc.dcm").string() + ": a Secondary Capture needs an 8-bit gray or RGB picture"),
              std::string::npos)
        << msg;
  }
  EXPECT_TRUE(fs::is_empty(dir_.path() / "out"));
}

TEST_F(SecondaryCapture, SourceThatCannotBeReferencedIsNamed) {
  data::testing::write_text(dir_.path() / "notes.txt", "not DICOM");
  std::string msg = error_of<data::DataError>(
      [&] { write_secondary_capture(dir_.path() / "notes.txt", picture(3), info(), out("a.dcm")); });
  EXPECT_NE(msg.find((dir_.path() / "notes.txt").string() + ": cannot read the source image"), std::string::npos)
      << msg;

  const fs::path no_study = dir_.path() / "no_study.dcm";
  write_source(no_study);
  DcmFileFormat file;
  ASSERT_TRUE(file.loadFile(no_study.c_str()).good());
  file.getDataset()->findAndDeleteElement(DCM_StudyInstanceUID);
  ASSERT_TRUE(file.saveFile(no_study.c_str(), EXS_LittleEndianExplicit).good());
  msg = error_of<data::DataError>([&] { write_secondary_capture(no_study, picture(3), info(), out("b.dcm")); });
  EXPECT_NE(msg.find(no_study.string() + ": the source image has no StudyInstanceUID"), std::string::npos) << msg;
  EXPECT_TRUE(fs::is_empty(dir_.path() / "out"));
}

}  // namespace
}  // namespace medtrain::exporter
