#pragma once
// Helpers shared by the data tests: a temporary folder that removes itself, and
// a writer for small hand-made DICOM files (any bit depth, sign, photometric,
// frame count, transfer syntax) built with DCMTK directly.
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcrlerp.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmjpls/djrparam.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "data/data_error.h"
#include "data/dicom/dicom_codecs.h"
#include "tests/common/temp_dir.h"

namespace medtrain::data::testing {

using TempDir = medtrain::testing::TempDir;

// The DataError message `f` throws, or "(no error)".
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  return "(no error)";
}

// Runs `python <source>/<script> <args>` (stderr into stdout): its exit status
// and everything it printed, for a suite's SetUpTestSuite to assert on later.
struct ScriptRun {
  int status = -1;
  std::string output;
};
inline ScriptRun run_python_script(const std::string& script, const std::string& args) {
  const std::string cmd =
      std::string(MEDTRAIN_PYTHON) + " " + MEDTRAIN_SOURCE_DIR + "/" + script + " " + args + " 2>&1";
  ScriptRun run;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return run;
  char buf[512];
  while (fgets(buf, sizeof(buf), p) != nullptr) run.output += buf;
  run.status = pclose(p);
  return run;
}

inline void write_text(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// Stored values are given as 16-bit words; for 8 bits allocated only the low
// byte of each is written.
struct RawDicom {
  int rows = 4, cols = 4, frames = 1;
  int bits_allocated = 16, bits_stored = 16, high_bit = -1, pixel_representation = 0;
  std::string photometric = "MONOCHROME2";
  int samples_per_pixel = 1;
  std::string slope, intercept, window_center, window_width;  // empty = absent
  std::vector<uint16_t> values;                               // rows*cols*frames (or fewer)
  bool pixel_data = true;
};

inline void write_raw_dicom(const std::string& path, const RawDicom& r,
                            E_TransferSyntax xfer = EXS_LittleEndianExplicit) {
  register_dicom_codecs();
  DcmFileFormat file;
  DcmDataset* ds = file.getDataset();
  char uid[100];
  ds->putAndInsertString(DCM_SOPClassUID, UID_SecondaryCaptureImageStorage);
  ds->putAndInsertString(DCM_SOPInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT));
  ds->putAndInsertString(DCM_Modality, "OT");
  ds->putAndInsertString(DCM_PhotometricInterpretation, r.photometric.c_str());
  ds->putAndInsertUint16(DCM_SamplesPerPixel, static_cast<Uint16>(r.samples_per_pixel));
  ds->putAndInsertUint16(DCM_Rows, static_cast<Uint16>(r.rows));
  ds->putAndInsertUint16(DCM_Columns, static_cast<Uint16>(r.cols));
  if (r.frames > 1) ds->putAndInsertString(DCM_NumberOfFrames, std::to_string(r.frames).c_str());
  ds->putAndInsertUint16(DCM_BitsAllocated, static_cast<Uint16>(r.bits_allocated));
  ds->putAndInsertUint16(DCM_BitsStored, static_cast<Uint16>(r.bits_stored));
  ds->putAndInsertUint16(DCM_HighBit, static_cast<Uint16>(r.high_bit >= 0 ? r.high_bit : r.bits_stored - 1));
  ds->putAndInsertUint16(DCM_PixelRepresentation, static_cast<Uint16>(r.pixel_representation));
  if (!r.slope.empty()) ds->putAndInsertString(DCM_RescaleSlope, r.slope.c_str());
  if (!r.intercept.empty()) ds->putAndInsertString(DCM_RescaleIntercept, r.intercept.c_str());
  if (!r.window_center.empty()) ds->putAndInsertString(DCM_WindowCenter, r.window_center.c_str());
  if (!r.window_width.empty()) ds->putAndInsertString(DCM_WindowWidth, r.window_width.c_str());
  if (r.pixel_data) {
    if (r.bits_allocated == 8) {
      std::vector<Uint8> bytes(r.values.begin(), r.values.end());
      ds->putAndInsertUint8Array(DCM_PixelData, bytes.data(), static_cast<unsigned long>(bytes.size()));
    } else {
      ds->putAndInsertUint16Array(DCM_PixelData, r.values.data(), static_cast<unsigned long>(r.values.size()));
    }
  }
  OFCondition cond = EC_Normal;
  if (xfer == EXS_JPEGLSLossless) {
    DJLSRepresentationParameter lossless(0, OFTrue);
    cond = ds->chooseRepresentation(xfer, &lossless);
  } else if (xfer == EXS_RLELossless) {
    DcmRLERepresentationParameter rle;
    cond = ds->chooseRepresentation(xfer, &rle);
  }
  ASSERT_TRUE(cond.good()) << path << ": " << cond.text();
  ASSERT_TRUE(ds->canWriteXfer(xfer)) << path;
  cond = file.saveFile(path.c_str(), xfer);
  ASSERT_TRUE(cond.good()) << path << ": " << cond.text();
}

}  // namespace medtrain::data::testing
