#include "data/dicom/synthetic_dicom.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcrlerp.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmjpls/djrparam.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "data/data_error.h"
#include "data/dicom/dicom_codecs.h"
#include "data/npy_writer.h"
#include "data/rng.h"
#include "data/dicom/synthetic_phantom.h"

namespace fs = std::filesystem;

namespace medtrain::data {
namespace {

constexpr double kFieldOfViewMm = 350.0;
constexpr double kSliceSpacingMm = 2.5;

struct SliceMeta {
  std::string patient_id, study_uid, series_uid, frame_uid;
  int instance = 1;
};

std::string new_uid(const char* root) {
  char buf[100];
  return dcmGenerateUniqueIdentifier(buf, root);
}

std::string fmt_ds(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

void put(DcmDataset* ds, const DcmTagKey& key, const std::string& value) {
  ds->putAndInsertString(key, value.c_str());
}

void put_header(DcmDataset* ds, const SliceMeta& m, int64_t size) {
  const double spacing = kFieldOfViewMm / static_cast<double>(size);
  const double z = -kSliceSpacingMm * m.instance;
  put(ds, DCM_SOPClassUID, UID_CTImageStorage);
  put(ds, DCM_SOPInstanceUID, new_uid(SITE_INSTANCE_UID_ROOT));
  put(ds, DCM_StudyInstanceUID, m.study_uid);
  put(ds, DCM_SeriesInstanceUID, m.series_uid);
  put(ds, DCM_FrameOfReferenceUID, m.frame_uid);
  put(ds, DCM_Modality, "CT");
  put(ds, DCM_ImageType, "ORIGINAL\\PRIMARY\\AXIAL");
  put(ds, DCM_Manufacturer, "medtrain synthetic phantom");
  put(ds, DCM_PatientName, "Synthetic^" + m.patient_id);
  put(ds, DCM_PatientID, m.patient_id);
  put(ds, DCM_PatientSex, "O");
  put(ds, DCM_StudyDate, "20240101");
  put(ds, DCM_StudyTime, "120000");
  put(ds, DCM_StudyID, "1");
  put(ds, DCM_AccessionNumber, "");
  put(ds, DCM_ReferringPhysicianName, "");
  put(ds, DCM_SeriesNumber, "1");
  put(ds, DCM_InstanceNumber, std::to_string(m.instance));
  put(ds, DCM_KVP, "120");
  put(ds, DCM_SliceThickness, fmt_ds(kSliceSpacingMm));
  put(ds, DCM_PixelSpacing, fmt_ds(spacing) + "\\" + fmt_ds(spacing));
  const std::string corner = fmt_ds(-kFieldOfViewMm / 2);
  put(ds, DCM_ImagePositionPatient, corner + "\\" + corner + "\\" + fmt_ds(z));
  put(ds, DCM_ImageOrientationPatient, "1\\0\\0\\0\\1\\0");
  put(ds, DCM_SliceLocation, fmt_ds(z));
  put(ds, DCM_RescaleIntercept, "-1024");
  put(ds, DCM_RescaleSlope, "1");
  put(ds, DCM_RescaleType, "HU");
  put(ds, DCM_WindowCenter, "40");
  put(ds, DCM_WindowWidth, "400");
  put(ds, DCM_PhotometricInterpretation, "MONOCHROME2");
  ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
  ds->putAndInsertUint16(DCM_Rows, static_cast<Uint16>(size));
  ds->putAndInsertUint16(DCM_Columns, static_cast<Uint16>(size));
  ds->putAndInsertUint16(DCM_BitsAllocated, 16);
  ds->putAndInsertUint16(DCM_BitsStored, 12);
  ds->putAndInsertUint16(DCM_HighBit, 11);
  ds->putAndInsertUint16(DCM_PixelRepresentation, 0);
}

E_TransferSyntax dcmtk_xfer(TransferSyntax s) {
  switch (s) {
    case TransferSyntax::kJpegLsLossless: return EXS_JPEGLSLossless;
    case TransferSyntax::kRleLossless: return EXS_RLELossless;
    default: return EXS_LittleEndianExplicit;
  }
}

void write_slice(const fs::path& path, const Phantom& ph, const SliceMeta& meta, TransferSyntax syntax) {
  DcmFileFormat file;
  DcmDataset* ds = file.getDataset();
  put_header(ds, meta, ph.size);
  std::vector<Uint16> stored(ph.hu.size());
  for (size_t i = 0; i < stored.size(); ++i) stored[i] = static_cast<Uint16>(ph.hu[i] + 1024);
  ds->putAndInsertUint16Array(DCM_PixelData, stored.data(), static_cast<unsigned long>(stored.size()));
  const E_TransferSyntax xfer = dcmtk_xfer(syntax);
  OFCondition cond = EC_Normal;
  if (syntax == TransferSyntax::kJpegLsLossless) {
    DJLSRepresentationParameter lossless(0, OFTrue);
    cond = ds->chooseRepresentation(xfer, &lossless);
  } else if (syntax == TransferSyntax::kRleLossless) {
    DcmRLERepresentationParameter rle;
    cond = ds->chooseRepresentation(xfer, &rle);
  }
  if (cond.good() && !ds->canWriteXfer(xfer)) cond = EC_CannotChangeRepresentation;
  if (cond.good()) cond = file.saveFile(path.c_str(), xfer);
  if (cond.bad()) {
    throw DataError(path.string() + ": cannot write " + transfer_syntax_name(syntax) + " DICOM: " + cond.text());
  }
}

void check_options(const SyntheticOptions& o) {
  auto bad = [](const std::string& what) { throw DataError("synthetic data: " + what); };
  auto got = [](auto v) { return " (got " + fmt_ds(static_cast<double>(v)) + ")"; };
  if (o.out_dir.empty()) bad("output directory is empty");
  if (o.count < 1) bad("count must be >= 1" + got(o.count));
  if (o.image_size < 16 || o.image_size > 4096) bad("image size must be in 16..4096" + got(o.image_size));
  if (!(o.positive_fraction >= 0 && o.positive_fraction <= 1)) {
    bad("positive fraction must be in [0, 1]" + got(o.positive_fraction));
  }
  if (o.patients < 1 || o.patients > o.count) {
    bad("patients must be in 1..count=" + std::to_string(o.count) + got(o.patients));
  }
  if (!(o.val_fraction >= 0 && o.val_fraction < 1)) bad("val fraction must be in [0, 1)" + got(o.val_fraction));
  if (o.val_fraction > 0 && o.patients < 2) bad("a patient-level val split needs at least 2 patients (got 1)");
  if (o.transfer_syntaxes.empty()) bad("no transfer syntax given");
  if (o.volumes && o.multilabel) bad("volumes have one lesion per patient; multilabel is for slices");
  if (o.volumes && o.count < 2 * o.patients) bad("volumes need at least 2 slices per patient");
}

// A seeded permutation of 0..n-1 (Fisher-Yates with our portable draws).
std::vector<size_t> permutation(size_t n, uint64_t seed) {
  std::vector<size_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = i;
  std::mt19937_64 rng(seed);
  for (size_t i = n; i > 1; --i) std::swap(p[i - 1], p[uniform_below(rng, i)]);
  return p;
}

std::vector<bool> pick(size_t n, size_t k, uint64_t seed) {
  std::vector<bool> chosen(n, false);
  const std::vector<size_t> p = permutation(n, seed);
  for (size_t i = 0; i < k; ++i) chosen[p[i]] = true;
  return chosen;
}

std::string patient_name(size_t p) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "P%04zu", p);
  return buf;
}

}  // namespace

std::string transfer_syntax_name(TransferSyntax s) {
  switch (s) {
    case TransferSyntax::kJpegLsLossless: return "jpeg-ls";
    case TransferSyntax::kRleLossless: return "rle";
    default: return "explicit-le";
  }
}

TransferSyntax parse_transfer_syntax(const std::string& name) {
  for (TransferSyntax s : {TransferSyntax::kExplicitVrLittleEndian, TransferSyntax::kJpegLsLossless,
                           TransferSyntax::kRleLossless}) {
    if (name == transfer_syntax_name(s)) return s;
  }
  if (name == "explicit") return TransferSyntax::kExplicitVrLittleEndian;
  throw DataError("unknown transfer syntax '" + name + "' (expected one of: explicit-le, jpeg-ls, rle)");
}

std::string transfer_syntax_uid(TransferSyntax s) {
  return DcmXfer(dcmtk_xfer(s)).getXferID();
}

namespace {

const std::vector<std::string> kLungLabels = {"right_lung_lesion", "left_lung_lesion"};

// What one slice shows and the manifest says about it.
struct SlicePlan {
  Phantom phantom;
  uint64_t lung_bits = 0;  // bit l: a lesion in lung l
};

// The lesions of every slice (slices mode) or of every patient (volumes), drawn
// from streams of their own so that each mode is a pure function of the options.
class LesionPlanner {
 public:
  explicit LesionPlanner(const SyntheticOptions& o) : o_(o) {
    const size_t units = o.volumes ? o.patients : o.count;
    const auto n_pos = static_cast<size_t>(std::llround(units * o.positive_fraction));
    positive_ = pick(units, n_pos, mix_seed(o.seed, 1));
    if (o.multilabel) second_ = pick(units, n_pos, mix_seed(o.seed, 3));
  }

  SlicePlan slice(size_t k, size_t p, size_t first_of_patient, size_t slices_of_patient) const {
    const uint64_t anatomy = mix_seed(o_.seed, 1000 + p), noise = mix_seed(o_.seed, 1000000 + k);
    SlicePlan plan;
    if (o_.volumes) {
      plan.phantom = render_ct_phantom(o_.image_size, anatomy, noise,
                                       sphere_section(p, k - first_of_patient, slices_of_patient));
    } else if (o_.multilabel) {
      std::mt19937_64 rng(mix_seed(o_.seed, 2000000 + k));
      std::vector<LesionPlacement> lesions;
      if (positive_[k]) lesions.push_back(draw_lesion_placement(rng, 0));
      if (second_[k]) lesions.push_back(draw_lesion_placement(rng, 1));
      plan.phantom = render_ct_phantom(o_.image_size, anatomy, noise, lesions);
    } else {
      plan.phantom = render_ct_phantom(o_.image_size, anatomy, noise, static_cast<bool>(positive_[k]));
    }
    plan.lung_bits = o_.multilabel ? (positive_[k] ? 1u : 0u) | (second_[k] ? 2u : 0u) : 0;
    return plan;
  }

  bool positive(size_t unit) const { return positive_[unit]; }

 private:
  // A sphere through the middle half of the patient's slices: slice z shows a
  // disc of radius R * sqrt(1 - ((z - zc) / Rz)^2).
  std::vector<LesionPlacement> sphere_section(size_t p, size_t z, size_t slices) const {
    if (!positive_[p]) return {};
    std::mt19937_64 rng(mix_seed(o_.seed, 3000000 + p));
    LesionPlacement l = draw_lesion_placement(rng, -1);
    const double zc = uniform(rng, 0.35, 0.65) * static_cast<double>(slices - 1);
    const double rz = std::max(1.5, uniform(rng, 0.2, 0.3) * static_cast<double>(slices));
    const double t = (static_cast<double>(z) - zc) / rz;
    l.radius = t * t < 1 ? l.radius * std::sqrt(1 - t * t) : 0;
    return {l};
  }

  const SyntheticOptions& o_;
  std::vector<bool> positive_, second_;
};

std::string join_labels(uint64_t bits) {
  std::string out;
  for (size_t l = 0; l < kLungLabels.size(); ++l) {
    if ((bits >> l) & 1u) out += (out.empty() ? "" : "|") + kLungLabels[l];
  }
  return out;
}

void write_text_atomically(const fs::path& final_path, const std::string& text) {
  const fs::path tmp = final_path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
    if (!f.flush()) throw DataError(tmp.string() + ": cannot write manifest");
  }
  std::error_code ec;
  fs::rename(tmp, final_path, ec);  // readers never see a half-written manifest
  if (ec) throw DataError(final_path.string() + ": cannot write manifest: " + ec.message());
}

void make_dirs(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw DataError(dir.string() + ": cannot create directory: " + ec.message());
}

std::string manifest_header(const SyntheticOptions& o) {
  return std::string("path,label") + (o.multilabel ? ",labels" : "") + (o.masks ? ",mask" : "") +
         ",patient_id,split\n";
}

}  // namespace

SyntheticSummary write_synthetic_dataset(const SyntheticOptions& o) {
  check_options(o);
  register_dicom_codecs();
  const fs::path out(o.out_dir);
  size_t n_val = static_cast<size_t>(std::llround(o.patients * o.val_fraction));
  if (o.val_fraction > 0) n_val = std::clamp<size_t>(n_val, 1, o.patients - 1);
  const LesionPlanner planner(o);
  const std::vector<bool> val = pick(o.patients, n_val, mix_seed(o.seed, 2));

  std::ostringstream manifest;
  manifest << manifest_header(o);
  SyntheticSummary sum;
  SliceMeta meta;
  size_t current = SIZE_MAX, first = 0;
  std::vector<uint8_t> volume_mask;
  auto end_patient = [&](size_t p) {
    const std::string dir = "images/" + meta.patient_id, mask = "masks/" + meta.patient_id + ".npy";
    if (o.masks) {
      make_dirs(out / "masks");
      // Volume order runs along the slice normal (+z, series_volume.h), and
      // z falls as the instance number grows: the last slice written comes first.
      const auto plane = static_cast<size_t>(o.image_size * o.image_size);
      const size_t slices = volume_mask.size() / plane;
      std::vector<uint8_t> ordered;
      for (size_t z = slices; z-- > 0;) {
        ordered.insert(ordered.end(), volume_mask.begin() + z * plane, volume_mask.begin() + (z + 1) * plane);
      }
      write_npy_u8((out / mask).string(), ordered.data(), {static_cast<int64_t>(slices), o.image_size, o.image_size});
    }
    manifest << dir << ',' << (planner.positive(p) ? 1 : 0) << (o.masks ? "," + mask : "") << ','
             << meta.patient_id << ',' << (val[p] ? "val" : "train") << '\n';
    volume_mask.clear();
  };
  for (size_t k = 0; k < o.count; ++k) {
    const size_t p = k * o.patients / o.count;  // contiguous, nearly equal blocks
    if (p != current) {
      if (o.volumes && current != SIZE_MAX) end_patient(current);
      current = p;
      first = k;
      meta = SliceMeta{patient_name(p), new_uid(SITE_STUDY_UID_ROOT), new_uid(SITE_SERIES_UID_ROOT),
                       new_uid(SITE_UID_ROOT ".1.5"), 0};
      (val[p] ? sum.val_patients : sum.train_patients)++;
    }
    ++meta.instance;
    char name[32];
    std::snprintf(name, sizeof(name), "slice_%03d", meta.instance);
    const fs::path rel = fs::path("images") / meta.patient_id / (std::string(name) + ".dcm");
    make_dirs(out / rel.parent_path());
    const size_t last = ((p + 1) * o.count + o.patients - 1) / o.patients;  // first slice of the next patient
    const SlicePlan plan = planner.slice(k, p, first, std::min(last, o.count) - first);
    write_slice(out / rel, plan.phantom, meta, o.transfer_syntaxes[k % o.transfer_syntaxes.size()]);
    const bool lesion = plan.phantom.lesion.present;
    sum.positives += lesion;
    (val[p] ? sum.val_images : sum.train_images)++;
    if (o.volumes) {
      volume_mask.insert(volume_mask.end(), plan.phantom.mask.begin(), plan.phantom.mask.end());
      continue;
    }
    manifest << rel.generic_string() << ',' << (lesion ? 1 : 0);
    if (o.multilabel) manifest << ',' << join_labels(plan.lung_bits);
    if (o.masks) {
      const fs::path mask = fs::path("masks") / meta.patient_id / (std::string(name) + ".npy");
      make_dirs(out / mask.parent_path());
      write_npy_u8((out / mask).string(), plan.phantom.mask.data(), {o.image_size, o.image_size});
      manifest << ',' << mask.generic_string();
    }
    manifest << ',' << meta.patient_id << ',' << (val[p] ? "val" : "train") << '\n';
  }
  if (o.volumes) end_patient(current);
  sum.images = o.count;
  write_text_atomically(out / "manifest.csv", manifest.str());
  sum.manifest_path = (out / "manifest.csv").string();
  return sum;
}

}  // namespace medtrain::data
