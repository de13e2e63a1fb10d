// write_dicom_seg (mask_outputs.h) with DCMTK's dcmseg: one Segmentation
// instance over the source series. Note [SEG layout]:
//  - Patient, Study and Frame of Reference are imported from the first source
//    slice (the source is research data, de-identified before training);
//    Series and SOP Instance UIDs are new (DcmSegmentation generates them).
//  - Common Instance Reference: every source instance, so that the Referenced
//    Series Sequence names the whole series.
//  - Shared functional groups: Pixel Measures (the source Pixel Spacing, slice
//    thickness = spacing between slices = the series' slice spacing) and Plane
//    Orientation (the source's).
//  - Per frame: Frame Content (dimension indices: segment number, slice),
//    Plane Position = the Image Position Patient of the slice it lies on (as
//    written in that file, so a viewer matches planes exactly), Derivation
//    Image naming that slice, and (added by dcmseg) Segment Identification.
//  - Segment k = class k, labelled label_names[k], AUTOMATIC, with the
//    algorithm name/version; category and type are the generic SCT 85756007
//    "Tissue" (the bundle carries names, not codes).
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmfg/fgfracon.h>
#include <dcmtk/dcmfg/fgpixmsr.h>
#include <dcmtk/dcmfg/fgplanor.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmiod/iodreferences.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "data/data_error.h"
#include "trainer/export/mask_output_files.h"
#include "trainer/export/mask_outputs.h"
#include "trainer/export/seg_frames.h"
#include "trainer/user_error.h"

namespace medtrain::exporter {

namespace {

namespace fs = std::filesystem;

// What the SEG needs from one source slice; the pixel data is never read.
struct SourceSlice {
  std::string sop_class, sop_instance;
  std::array<std::string, 3> position;  // Image Position Patient, as written
};

// The source header the SEG copies Patient/Study/Frame of Reference from, and
// the strings its shared groups reuse verbatim.
struct SourceSeries {
  std::vector<SourceSlice> slices;
  DcmFileFormat first;
  std::string patient_id, study_uid, series_uid, pixel_spacing;
  std::array<std::string, 6> orientation;
};

// Value `pos` of `tag`, or all its values (backslash-separated) for pos -1.
std::string get_string(DcmItem& ds, const DcmTagKey& tag, long pos = 0) {
  OFString value;
  if (pos < 0) {
    ds.findAndGetOFStringArray(tag, value);
  } else {
    ds.findAndGetOFString(tag, value, pos);
  }
  return value.c_str();
}

std::string require_string(DcmItem& ds, const DcmTagKey& tag, const char* name, const std::string& file,
                           long pos = 0) {
  std::string v = get_string(ds, tag, pos);
  if (v.empty()) throw data::DataError(fmt::format("{}: source slice has no {}", file, name));
  return v;
}

// Loads the header of `file` (values over 4 KB, the pixel data, stay on disk).
void load_header(DcmFileFormat& ff, const std::string& file) {
  const OFCondition c = ff.loadFile(file.c_str(), EXS_Unknown, EGL_noChange, 4096);
  if (c.bad()) throw data::DataError(fmt::format("{}: cannot read the source slice: {}", file, c.text()));
}

SourceSlice read_slice(DcmItem& ds, const std::string& file, int64_t rows, int64_t cols,
                       const fs::path& out_file) {
  Uint16 r = 0, c = 0;
  ds.findAndGetUint16(DCM_Rows, r);
  ds.findAndGetUint16(DCM_Columns, c);
  if (r != rows || c != cols) {
    throw UserError(fmt::format("{}: the mask is {}x{} per slice but {} is {}x{}", out_file.string(), rows, cols,
                                file, r, c));
  }
  SourceSlice s;
  s.sop_class = require_string(ds, DCM_SOPClassUID, "SOP Class UID", file);
  s.sop_instance = require_string(ds, DCM_SOPInstanceUID, "SOP Instance UID", file);
  for (int i = 0; i < 3; ++i) {
    s.position[i] = require_string(ds, DCM_ImagePositionPatient, "Image Position Patient", file, i);
  }
  return s;
}

SourceSeries read_sources(const data::SeriesVolume& series, int64_t rows, int64_t cols, const fs::path& out_file) {
  SourceSeries src;
  for (size_t k = 0; k < series.files.size(); ++k) {
    const std::string& file = series.files[k];
    DcmFileFormat scratch;
    DcmFileFormat& ff = k == 0 ? src.first : scratch;
    load_header(ff, file);
    src.slices.push_back(read_slice(*ff.getDataset(), file, rows, cols, out_file));
  }
  DcmDataset& ds = *src.first.getDataset();
  const std::string& file = series.files.front();
  src.patient_id = get_string(ds, DCM_PatientID);
  src.study_uid = require_string(ds, DCM_StudyInstanceUID, "Study Instance UID", file);
  src.series_uid = require_string(ds, DCM_SeriesInstanceUID, "Series Instance UID", file);
  src.pixel_spacing = require_string(ds, DCM_PixelSpacing, "Pixel Spacing", file, -1);
  for (int i = 0; i < 6; ++i) {
    src.orientation[i] = require_string(ds, DCM_ImageOrientationPatient, "Image Orientation Patient", file, i);
  }
  return src;
}

// DICOM DS: at most 16 characters.
std::string decimal_string(double v) {
  for (int precision = 12; precision > 1; --precision) {
    std::string s = fmt::format("{:.{}g}", v, precision);
    if (s.size() <= 16) return s;
  }
  return fmt::format("{:.1g}", v);
}

void check(const OFCondition& c, const fs::path& out_file, const std::string& what) {
  if (c.bad()) throw UserError(fmt::format("{}: DICOM SEG: {}: {}", out_file.string(), what, c.text()));
}

std::unique_ptr<DcmSegmentation> create_segmentation(const SegWriteOptions& o, uint16_t rows, uint16_t cols,
                                                     const fs::path& out_file) {
  const std::string name = o.algorithm_name.empty() ? "medtrain" : o.algorithm_name;
  const std::string version = o.algorithm_version.empty() ? MEDTRAIN_VERSION_STRING : o.algorithm_version;
  IODGeneralEquipmentModule::EquipmentInfo equipment("medtrain", name.c_str(), "none", version.c_str());
  ContentIdentificationMacro content("1", "MEDTRAIN_SEG", o.series_description.substr(0, 64).c_str(), "");
  DcmSegmentation* raw = nullptr;
  OFCondition c;
  if (o.fractional) {
    c = DcmSegmentation::createFractionalSegmentation(raw, rows, cols, DcmSegTypes::SFT_PROBABILITY, 255, equipment,
                                                      content);
  } else {
    c = DcmSegmentation::createBinarySegmentation(raw, rows, cols, equipment, content);
  }
  std::unique_ptr<DcmSegmentation> seg(raw);
  check(c, out_file, "creating the segmentation");
  return seg;
}

void add_segments(DcmSegmentation& seg, const SegWriteOptions& o, const fs::path& out_file) {
  const std::string name = o.algorithm_name.empty() ? "medtrain" : o.algorithm_name;
  const std::string version = o.algorithm_version.empty() ? MEDTRAIN_VERSION_STRING : o.algorithm_version;
  const CodeSequenceMacro tissue("85756007", "SCT", "Tissue");
  for (size_t k = 1; k < o.label_names.size(); ++k) {
    const std::string what = fmt::format("segment {} \"{}\"", k, o.label_names[k]);
    DcmSegment* raw = nullptr;
    check(DcmSegment::create(raw, o.label_names[k].c_str(), tissue, tissue, DcmSegTypes::SAT_AUTOMATIC, name.c_str()),
          out_file, what);
    std::unique_ptr<DcmSegment> segment(raw);
    AlgorithmIdentificationMacro& algo = segment->getSegmentationAlgorithmIdentification();
    check(algo.getAlgorithmFamilyCode().set("123110", "DCM", "Artificial Intelligence"), out_file, what);
    check(algo.setAlgorithmName(name.c_str()), out_file, what);
    check(algo.setAlgorithmVersion(version.c_str()), out_file, what);
    Uint16 number = 0;
    check(seg.addSegment(segment.get(), number), out_file, what);
    segment.release();  // owned by seg now
  }
}

// Patient/Study/Frame of Reference, the series description, the references
// and the groups every frame shares.
void describe(DcmSegmentation& seg, SourceSeries& src, const data::SeriesVolume& series, const SegWriteOptions& o,
              const fs::path& out_file) {
  const std::string& first = series.files.front();
  const OFCondition imported = seg.importFromSourceImage(*src.first.getDataset());
  if (imported.bad()) {
    throw data::DataError(fmt::format("{}: cannot copy patient/study/frame of reference into the SEG: {}", first,
                                      imported.text()));
  }
  check(seg.getSeries().setSeriesDescription(o.series_description.substr(0, 64).c_str()), out_file,
        "series description");
  check(seg.getSeries().setSeriesNumber("1000"), out_file, "series number");

  IODReferences refs;
  for (const SourceSlice& s : src.slices) {
    refs.add(new IODImageReference(src.patient_id.c_str(), src.study_uid.c_str(), src.series_uid.c_str(),
                                   s.sop_instance.c_str(), s.sop_class.c_str()));
  }
  if (seg.getCommonInstanceReference().addReferences(refs, src.study_uid.c_str()) != src.slices.size()) {
    throw UserError(fmt::format("{}: DICOM SEG: could not reference every instance of the series of {}",
                                out_file.string(), first));
  }

  FGPixelMeasures measures;
  check(measures.setPixelSpacing(src.pixel_spacing.c_str()), out_file, "pixel spacing");
  check(measures.setSliceThickness(decimal_string(series.spacing[0]).c_str()), out_file, "slice thickness");
  check(measures.setSpacingBetweenSlices(decimal_string(series.spacing[0]).c_str()), out_file, "slice spacing");
  check(seg.addForAllFrames(measures), out_file, "pixel measures");
  const auto& io = src.orientation;
  std::unique_ptr<FGPlaneOrientationPatient> orientation(FGPlaneOrientationPatient::createMinimal(
      io[0].c_str(), io[1].c_str(), io[2].c_str(), io[3].c_str(), io[4].c_str(), io[5].c_str()));
  if (!orientation) throw UserError(fmt::format("{}: DICOM SEG: bad orientation in {}", out_file.string(), first));
  check(seg.addForAllFrames(*orientation), out_file, "plane orientation");

  // Frames are indexed by (segment, position): DICOM's usual SEG dimensions.
  char uid[100];
  const std::string org = dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT);
  IODMultiframeDimensionModule& dims = seg.getDimensions();
  check(dims.addDimensionIndex(DCM_ReferencedSegmentNumber, org.c_str(), DCM_SegmentIdentificationSequence,
                               "ReferencedSegmentNumber"),
        out_file, "dimension index");
  check(dims.addDimensionIndex(DCM_ImagePositionPatient, org.c_str(), DCM_PlanePositionSequence,
                               "ImagePositionPatient"),
        out_file, "dimension index");
  auto item = std::make_unique<IODMultiframeDimensionModule::DimensionOrganizationItem>();
  check(item->setDimensionOrganizationUID(org.c_str()), out_file, "dimension organization");
  dims.getDimensionOrganizationSequence().push_back(item.release());
}

// The per-slice groups every segment's frame on that slice repeats.
struct SliceGroups {
  std::unique_ptr<FGPlanePosPatient> position;
  std::unique_ptr<FGDerivationImage> derivation;
};

std::vector<SliceGroups> slice_groups(const SourceSeries& src, const fs::path& out_file) {
  std::vector<SliceGroups> groups;
  for (const SourceSlice& s : src.slices) {
    SliceGroups g;
    g.position.reset(
        FGPlanePosPatient::createMinimal(s.position[0].c_str(), s.position[1].c_str(), s.position[2].c_str()));
    ImageSOPInstanceReferenceMacro ref;
    check(ref.setReferencedSOPClassUID(s.sop_class.c_str()), out_file, "source reference");
    check(ref.setReferencedSOPInstanceUID(s.sop_instance.c_str()), out_file, "source reference");
    OFVector<ImageSOPInstanceReferenceMacro> refs;
    refs.push_back(ref);
    g.derivation.reset(DcmSegmentation::createDerivationImageFG(refs, "medtrain inference"));
    if (!g.position || !g.derivation) {
      throw UserError(fmt::format("{}: DICOM SEG: bad position or reference for {}", out_file.string(),
                                  s.sop_instance));
    }
    groups.push_back(std::move(g));
  }
  return groups;
}

// A fractional SEG's probabilities must be uint8 [C, D, H, W] over the mask.
void check_probabilities(const at::Tensor& labels, const at::Tensor& probabilities, int64_t classes,
                         const fs::path& out_file) {
  const bool ok = probabilities.defined() && probabilities.scalar_type() == at::kByte && probabilities.dim() == 4 &&
                  probabilities.size(0) == classes && probabilities.sizes().slice(1) == labels.sizes();
  if (ok) return;
  const std::string got = probabilities.defined()
                              ? fmt::format("{} [{}]", probabilities.toString(), fmt::join(probabilities.sizes(), ", "))
                              : std::string("none");
  throw UserError(fmt::format("{}: a fractional SEG needs uint8 probabilities [{}, {}, {}, {}], got {}",
                              out_file.string(), classes, labels.size(0), labels.size(1), labels.size(2), got));
}

void add_frames(DcmSegmentation& seg, const detail::SegmentFrames& frames, const std::vector<SliceGroups>& slices,
                const fs::path& out_file) {
  FGFrameContent content;
  for (int64_t s = 1; s <= frames.segments(); ++s) {
    const at::Tensor segment = frames.bytes(s);
    const int64_t plane = segment.size(1) * segment.size(2);
    auto* bytes = const_cast<uint8_t*>(segment.data_ptr<uint8_t>());  // dcmseg copies, never writes
    for (size_t k = 0; k < slices.size(); ++k) {
      check(content.setDimensionIndexValues(static_cast<Uint32>(s), 0), out_file, "frame content");
      check(content.setDimensionIndexValues(static_cast<Uint32>(k + 1), 1), out_file, "frame content");
      OFVector<FGBase*> groups;
      groups.push_back(&content);
      groups.push_back(slices[k].position.get());
      groups.push_back(slices[k].derivation.get());
      check(seg.addFrame(bytes + k * plane, static_cast<Uint16>(s), groups), out_file,
            fmt::format("frame of segment {} slice {}", s, k));
    }
  }
}

// Each frame's pixels lie exactly on its source slice's; saying so (Spatial
// Locations Preserved = YES in every Source Image Sequence item) lets readers
// such as highdicom index the mask by source instance. dcmfg 3.6.7 has no
// setter for it, so it is added to the written dataset.
void mark_spatial_locations_preserved(DcmDataset& ds, const fs::path& out_file) {
  DcmSequenceOfItems* frames = nullptr;
  check(ds.findAndGetSequence(DCM_PerFrameFunctionalGroupsSequence, frames), out_file, "per-frame groups");
  for (unsigned long f = 0; f < frames->card(); ++f) {
    DcmSequenceOfItems* derivations = nullptr;
    if (frames->getItem(f)->findAndGetSequence(DCM_DerivationImageSequence, derivations).bad()) continue;
    for (unsigned long d = 0; d < derivations->card(); ++d) {
      DcmSequenceOfItems* sources = nullptr;
      if (derivations->getItem(d)->findAndGetSequence(DCM_SourceImageSequence, sources).bad()) continue;
      for (unsigned long s = 0; s < sources->card(); ++s) {
        check(sources->getItem(s)->putAndInsertString(DCM_SpatialLocationsPreserved, "YES"), out_file,
              "spatial locations preserved");
      }
    }
  }
}

void save(DcmSegmentation& seg, const detail::SegmentFrames& frames, bool fractional, const fs::path& temp,
          const fs::path& out_file) {
  DcmFileFormat file;
  check(seg.writeDataset(*file.getDataset()), out_file, "assembling the dataset");
  mark_spatial_locations_preserved(*file.getDataset(), out_file);
  if (!fractional) {
    const std::vector<uint8_t> bits = detail::pack_binary_frames(frames);  // Note [1-bit frames]
    check(file.getDataset()->putAndInsertUint8Array(DCM_PixelData, bits.data(), static_cast<unsigned long>(bits.size())),
          out_file, "pixel data");
  }
  check(file.saveFile(temp.string().c_str(), EXS_LittleEndianExplicit), out_file, "writing");
}

}  // namespace

void write_dicom_seg(const fs::path& out_file, const at::Tensor& labels, const at::Tensor& probabilities,
                     const data::SeriesVolume& series, const SegWriteOptions& options) {
  const auto classes = static_cast<int64_t>(options.label_names.size());
  if (classes < 2 || classes > 65536) {
    throw UserError(fmt::format("{}: a DICOM SEG needs 2..65536 label names (background + one per segment), got {}",
                                out_file.string(), classes));
  }
  detail::check_mask_labels(out_file, labels, series, classes, detail::SliceSource::kOneFilePerSlice);
  if (labels.size(0) == 0 || labels.size(1) > 65535 || labels.size(2) > 65535) {
    throw UserError(fmt::format("{}: a DICOM SEG needs at least one slice of at most 65535 x 65535; the mask is {}x{}x{}",
                                out_file.string(), labels.size(0), labels.size(1), labels.size(2)));
  }
  if (options.fractional) check_probabilities(labels, probabilities, classes, out_file);
  detail::prepare_mask_target(out_file);
  SourceSeries src = read_sources(series, labels.size(1), labels.size(2), out_file);
  const detail::SegmentFrames frames(labels, probabilities, options.fractional, classes);

  std::unique_ptr<DcmSegmentation> seg = create_segmentation(
      options, static_cast<uint16_t>(labels.size(1)), static_cast<uint16_t>(labels.size(2)), out_file);
  describe(*seg, src, series, options, out_file);
  add_segments(*seg, options, out_file);
  add_frames(*seg, frames, slice_groups(src, out_file), out_file);

  const fs::path temp = detail::temporary_sibling(out_file);
  detail::TempFileGuard guard(temp);
  save(*seg, frames, options.fractional, temp, out_file);
  detail::publish_mask_file(temp, out_file);
  guard.release();
}

}  // namespace medtrain::exporter
