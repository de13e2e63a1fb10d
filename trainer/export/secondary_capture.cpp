// write_secondary_capture with DCMTK's dcmdata. Note [SC layout]:
//  - SOP Class: Secondary Capture Image Storage (1.2.840.10008.5.1.4.1.1.7),
//    the single-frame class every PACS stores and shows; 8-bit RGB
//    (PlanarConfiguration 0, interleaved as RasterImage holds it) or
//    MONOCHROME2 for a gray picture.
//  - Patient, General Study and Patient Study attributes are copied from the
//    source (absent type 2 ones are written empty), with its Specific
//    Character Set, so the picture files under the same patient and study.
//  - A new series (info.series_instance_uid, or a generated one) of Modality
//    OT and a new SOP Instance UID; ConversionType WSD (workstation).
//  - ImageType DERIVED\SECONDARY, Derivation Description, Source Image
//    Sequence and Referenced Image Sequence naming the source's SOP Class and
//    Instance UIDs (with Referenced Frame Number 1 for a multi-frame source:
//    2D models read its first frame), BurnedInAnnotation NO (the picture
//    carries no text).
//  - Saved little endian explicit to a hidden sibling, then renamed, so a
//    failed write never leaves a partial file under out_file.
#include "trainer/export/secondary_capture.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <fmt/format.h>

#include <ctime>
#include <string>
#include <system_error>
#include <utility>

#include "data/data_error.h"
#include "trainer/export/mask_output_files.h"
#include "trainer/user_error.h"

namespace medtrain::exporter {
namespace {

namespace fs = std::filesystem;

// Patient, General Study and Patient Study attributes copied verbatim when the
// source has them; `type2` ones are written empty when it does not.
struct Copied {
  DcmTagKey tag;
  bool type2;
};
const Copied kCopied[] = {
    {DCM_SpecificCharacterSet, false},
    {DCM_PatientName, true},
    {DCM_PatientID, true},
    {DCM_IssuerOfPatientID, false},
    {DCM_PatientBirthDate, true},
    {DCM_PatientSex, true},
    {DCM_PatientAge, false},
    {DCM_PatientSize, false},
    {DCM_PatientWeight, false},
    {DCM_StudyInstanceUID, false},  // required: checked in read_source
    {DCM_StudyDate, true},
    {DCM_StudyTime, true},
    {DCM_ReferringPhysicianName, true},
    {DCM_StudyID, true},
    {DCM_AccessionNumber, true},
    {DCM_StudyDescription, false},
};

std::string get_string(DcmItem& ds, const DcmTagKey& tag) {
  OFString value;
  ds.findAndGetOFStringArray(tag, value);
  return value.c_str();
}

std::string new_uid() {
  char uid[100];
  return dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT);
}

void check(const OFCondition& c, const fs::path& out_file, const std::string& what) {
  if (c.bad()) throw UserError(fmt::format("{}: Secondary Capture: {}: {}", out_file.string(), what, c.text()));
}

// The header of the source (values over 4 KB, its pixel data among them, stay on disk).
void read_source(DcmFileFormat& ff, const fs::path& source) {
  const OFCondition c = ff.loadFile(source.c_str(), EXS_Unknown, EGL_noChange, 4096);
  if (c.bad()) throw data::DataError(fmt::format("{}: cannot read the source image: {}", source.string(), c.text()));
  DcmDataset& ds = *ff.getDataset();
  for (const DcmTagKey& tag : {DCM_SOPClassUID, DCM_SOPInstanceUID, DCM_StudyInstanceUID}) {
    if (get_string(ds, tag).empty()) {
      throw data::DataError(fmt::format("{}: the source image has no {}; a Secondary Capture cannot reference it",
                                        source.string(), DcmTag(tag).getTagName()));
    }
  }
}

void copy_patient_and_study(DcmItem& src, DcmItem& out, const fs::path& out_file) {
  for (const Copied& c : kCopied) {
    DcmElement* element = nullptr;
    if (src.findAndGetElement(c.tag, element).good() && element != nullptr) {
      check(out.insert(OFstatic_cast(DcmElement*, element->clone()), true), out_file,
            DcmTag(c.tag).getTagName());
    } else if (c.type2) {
      check(out.insertEmptyElement(c.tag), out_file, DcmTag(c.tag).getTagName());
    }
  }
}

// One item naming the source instance (and its first frame when it has several).
void add_reference(DcmItem& out, const DcmTagKey& sequence, DcmItem& src, const fs::path& out_file) {
  DcmItem* item = nullptr;
  check(out.findOrCreateSequenceItem(sequence, item, -2), out_file, DcmTag(sequence).getTagName());
  check(item->putAndInsertString(DCM_ReferencedSOPClassUID, get_string(src, DCM_SOPClassUID).c_str()), out_file,
        "referenced SOP class");
  check(item->putAndInsertString(DCM_ReferencedSOPInstanceUID, get_string(src, DCM_SOPInstanceUID).c_str()),
        out_file, "referenced SOP instance");
  Sint32 frames = 1;
  if (src.findAndGetSint32(DCM_NumberOfFrames, frames).good() && frames > 1) {
    check(item->putAndInsertString(DCM_ReferencedFrameNumber, "1"), out_file, "referenced frame");
  }
}

// YYYYMMDD and HHMMSS of now (UTC), for the content and capture date and time.
std::pair<std::string, std::string> now_date_time() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[16], time[16];
  std::strftime(date, sizeof(date), "%Y%m%d", &tm);
  std::strftime(time, sizeof(time), "%H%M%S", &tm);
  return {date, time};
}

void describe(DcmItem& out, const SecondaryCaptureInfo& info, const fs::path& out_file) {
  const auto [date, time] = now_date_time();
  const std::string series = info.series_instance_uid.empty() ? new_uid() : info.series_instance_uid;
  const std::pair<DcmTagKey, std::string> values[] = {
      {DCM_SOPClassUID, UID_SecondaryCaptureImageStorage},
      {DCM_SOPInstanceUID, new_uid()},
      {DCM_InstanceCreationDate, date},
      {DCM_InstanceCreationTime, time},
      {DCM_Modality, "OT"},
      {DCM_SeriesInstanceUID, series},
      {DCM_SeriesNumber, std::to_string(info.series_number)},
      {DCM_SeriesDescription, info.series_description.substr(0, 64)},
      {DCM_Manufacturer, "medtrain"},
      {DCM_ConversionType, "WSD"},
      {DCM_SecondaryCaptureDeviceManufacturer, "medtrain"},
      {DCM_SecondaryCaptureDeviceSoftwareVersions, MEDTRAIN_VERSION_STRING},
      {DCM_DateOfSecondaryCapture, date},
      {DCM_TimeOfSecondaryCapture, time},
      {DCM_InstanceNumber, std::to_string(info.instance_number)},
      {DCM_PatientOrientation, ""},
      {DCM_ContentDate, date},
      {DCM_ContentTime, time},
      {DCM_ImageType, "DERIVED\\SECONDARY"},
      {DCM_DerivationDescription, info.derivation.substr(0, 1024)},
      {DCM_BurnedInAnnotation, "NO"},
  };
  for (const auto& [tag, value] : values) {
    check(out.putAndInsertString(tag, value.c_str()), out_file, DcmTag(tag).getTagName());
  }
}

void put_pixels(DcmItem& out, const metrics::RasterImage& picture, const fs::path& out_file) {
  const bool rgb = picture.channels == 3;
  check(out.putAndInsertUint16(DCM_SamplesPerPixel, rgb ? 3 : 1), out_file, "samples per pixel");
  check(out.putAndInsertString(DCM_PhotometricInterpretation, rgb ? "RGB" : "MONOCHROME2"), out_file,
        "photometric interpretation");
  if (rgb) check(out.putAndInsertUint16(DCM_PlanarConfiguration, 0), out_file, "planar configuration");
  check(out.putAndInsertUint16(DCM_Rows, static_cast<Uint16>(picture.height)), out_file, "rows");
  check(out.putAndInsertUint16(DCM_Columns, static_cast<Uint16>(picture.width)), out_file, "columns");
  check(out.putAndInsertUint16(DCM_BitsAllocated, 8), out_file, "bits allocated");
  check(out.putAndInsertUint16(DCM_BitsStored, 8), out_file, "bits stored");
  check(out.putAndInsertUint16(DCM_HighBit, 7), out_file, "high bit");
  check(out.putAndInsertUint16(DCM_PixelRepresentation, 0), out_file, "pixel representation");
  check(out.putAndInsertUint8Array(DCM_PixelData, picture.pixels.data(),
                                   static_cast<unsigned long>(picture.pixels.size())),
        out_file, "pixel data");
}

void check_picture(const metrics::RasterImage& picture, const fs::path& out_file) {
  const bool sized = picture.width > 0 && picture.height > 0 && picture.width <= 65535 && picture.height <= 65535;
  if (!sized || (picture.channels != 1 && picture.channels != 3) ||
      picture.pixels.size() != static_cast<size_t>(picture.width * picture.height * picture.channels)) {
    throw UserError(fmt::format("{}: a Secondary Capture needs an 8-bit gray or RGB picture of 1..65535 pixels a "
                                "side; got {}x{} with {} channels and {} bytes",
                                out_file.string(), picture.width, picture.height, picture.channels,
                                picture.pixels.size()));
  }
}

}  // namespace

std::string source_series_uid(const fs::path& source_dicom) {
  DcmFileFormat ff;
  const OFCondition c = ff.loadFile(source_dicom.c_str(), EXS_Unknown, EGL_noChange, 256);
  if (c.bad()) {
    throw data::DataError(fmt::format("{}: cannot read the source image: {}", source_dicom.string(), c.text()));
  }
  return get_string(*ff.getDataset(), DCM_SeriesInstanceUID);
}

void write_secondary_capture(const fs::path& source_dicom, const metrics::RasterImage& picture,
                             const SecondaryCaptureInfo& info, const fs::path& out_file) {
  check_picture(picture, out_file);
  std::error_code ec;
  if (fs::exists(fs::symlink_status(out_file, ec))) {
    throw UserError(fmt::format("{}: exists; medtrain does not overwrite it", out_file.string()));
  }
  DcmFileFormat source;
  read_source(source, source_dicom);
  DcmItem& src = *source.getDataset();

  DcmFileFormat file;
  DcmItem& out = *file.getDataset();
  copy_patient_and_study(src, out, out_file);
  describe(out, info, out_file);
  add_reference(out, DCM_SourceImageSequence, src, out_file);
  add_reference(out, DCM_ReferencedImageSequence, src, out_file);
  put_pixels(out, picture, out_file);

  const fs::path parent = out_file.parent_path();
  if (!parent.empty() && !fs::create_directories(parent, ec) && ec) {
    throw UserError(fmt::format("{}: cannot create the folder: {}", parent.string(), ec.message()));
  }
  const fs::path temp = detail::temporary_sibling(out_file);
  detail::TempFileGuard guard(temp);
  check(file.saveFile(temp.c_str(), EXS_LittleEndianExplicit), out_file, "writing");
  fs::rename(temp, out_file, ec);
  if (ec) {
    throw UserError(fmt::format("{}: cannot move the finished file into place: {}", out_file.string(), ec.message()));
  }
  guard.release();
}

}  // namespace medtrain::exporter
