// write_nifti (mask_outputs.h) through nifticlib (Debian libnifti2-dev), the
// NIfTI reference implementation, rather than a hand-written 348-byte header.
#include <fmt/format.h>
#include <nifti1_io.h>  // /usr/include/nifti (trainer/CMakeLists.txt)

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "trainer/export/mask_output_files.h"
#include "trainer/export/mask_outputs.h"
#include "trainer/user_error.h"

namespace medtrain::exporter {

namespace {

namespace fs = std::filesystem;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Voxel (i, j, k) = (column, row, slice) to RAS millimetres. DICOM places
// column i along the row direction (spacing x), row j along the column
// direction (spacing y) and slice k along the normal (spacing z), in LPS;
// NIfTI's scanner space is RAS, so x and y change sign.
mat44 ras_affine(const data::SeriesVolume& series) {
  const auto& o = series.orientation;
  const std::array<double, 3> row{o[0], o[1], o[2]};
  const std::array<double, 3> col{o[3], o[4], o[5]};
  const std::array<double, 3> normal{row[1] * col[2] - row[2] * col[1], row[2] * col[0] - row[0] * col[2],
                                     row[0] * col[1] - row[1] * col[0]};
  const std::array<std::array<double, 3>, 3> axes{row, col, normal};
  const std::array<double, 3> step{series.spacing[2], series.spacing[1], series.spacing[0]};
  const std::array<double, 3> lps_to_ras{-1.0, -1.0, 1.0};
  mat44 m{};
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) m.m[r][c] = static_cast<float>(lps_to_ras[r] * axes[c][r] * step[c]);
    m.m[r][3] = static_cast<float>(lps_to_ras[r] * series.origin[r]);
  }
  m.m[3][3] = 1.0f;
  return m;
}

// Sets the sform and an equivalent qform (the quaternion nifticlib derives
// from the same matrix), both as scanner coordinates in millimetres.
void set_geometry(nifti_image* nim, const mat44& affine) {
  nim->sform_code = NIFTI_XFORM_SCANNER_ANAT;
  nim->sto_xyz = affine;
  nim->sto_ijk = nifti_mat44_inverse(affine);
  float dx = 0, dy = 0, dz = 0;
  nifti_mat44_to_quatern(affine, &nim->quatern_b, &nim->quatern_c, &nim->quatern_d, &nim->qoffset_x,
                         &nim->qoffset_y, &nim->qoffset_z, &dx, &dy, &dz, &nim->qfac);
  nim->qform_code = NIFTI_XFORM_SCANNER_ANAT;
  nim->qto_xyz = nifti_quatern_to_mat44(nim->quatern_b, nim->quatern_c, nim->quatern_d, nim->qoffset_x,
                                        nim->qoffset_y, nim->qoffset_z, dx, dy, dz, nim->qfac);
  nim->qto_ijk = nifti_mat44_inverse(nim->qto_xyz);
  nim->dx = nim->pixdim[1] = dx;
  nim->dy = nim->pixdim[2] = dy;
  nim->dz = nim->pixdim[3] = dz;
  nim->xyz_units = NIFTI_UNITS_MM;
}

// Owns a nifti_image whose data pointer is borrowed (never freed by nifticlib).
struct NiftiImage {
  nifti_image* nim = nullptr;
  ~NiftiImage() {
    if (nim == nullptr) return;
    nim->data = nullptr;
    nifti_image_free(nim);
  }
};

void write_file(const fs::path& path, nifti_image* nim, bool compressed) {
  const std::string where = path.string();
  if (nifti_set_filenames(nim, where.c_str(), 0, 1) != 0) {
    throw UserError(fmt::format("{}: nifticlib refuses this file name", where));
  }
  errno = 0;
  znzFile fp = znzopen(where.c_str(), "wb", compressed ? 1 : 0);
  if (znz_isnull(fp)) throw UserError(fmt::format("{}: cannot create: {}", where, std::strerror(errno)));
  // 2 = write the header only and leave the file open for the voxels; on a
  // failed header write nifticlib closes the file and returns null.
  fp = nifti_image_write_hdr_img2(nim, 2, "wb", fp, nullptr);
  if (znz_isnull(fp)) throw UserError(fmt::format("{}: writing the NIfTI header failed", where));
  const size_t bytes = nim->nvox * static_cast<size_t>(nim->nbyper);
  const size_t written = nifti_write_buffer(fp, nim->data, bytes);
  const int closed = znzclose(fp);  // gzclose: flushes the last compressed block
  if (written != bytes || closed != 0) {
    throw UserError(fmt::format("{}: writing the voxels failed ({} of {} bytes, close status {})", where, written,
                                bytes, closed));
  }
}

}  // namespace

void write_nifti(const fs::path& out_file, const at::Tensor& labels, const data::SeriesVolume& series) {
  const std::string name = out_file.filename().string();
  const bool compressed = ends_with(name, ".nii.gz");
  if (!compressed && !ends_with(name, ".nii")) {
    throw UserError(fmt::format("{}: a NIfTI mask file name ends with .nii.gz (or .nii)", out_file.string()));
  }
  detail::check_mask_labels(out_file, labels, series, 0, detail::SliceSource::kGeometryOnly);
  detail::prepare_mask_target(out_file);
  const at::Tensor voxels = labels.contiguous();  // [D, H, W]: x (columns) runs fastest, as NIfTI stores i

  const std::array<int, 8> dims{3, static_cast<int>(voxels.size(2)), static_cast<int>(voxels.size(1)),
                                static_cast<int>(voxels.size(0)), 1, 1, 1, 1};
  NiftiImage image;
  image.nim = nifti_make_new_nim(dims.data(), DT_UINT8, 0);
  if (image.nim == nullptr) throw UserError(fmt::format("{}: nifticlib could not set up the image", out_file.string()));
  image.nim->nifti_type = NIFTI_FTYPE_NIFTI1_1;  // one .nii file: header and voxels
  image.nim->data = const_cast<uint8_t*>(voxels.data_ptr<uint8_t>());  // only read by the writer
  image.nim->intent_code = NIFTI_INTENT_LABEL;
  std::snprintf(image.nim->descrip, sizeof(image.nim->descrip), "medtrain segmentation");
  set_geometry(image.nim, ras_affine(series));

  const fs::path temp = detail::temporary_sibling(out_file);
  detail::TempFileGuard guard(temp);
  write_file(temp, image.nim, compressed);
  detail::publish_mask_file(temp, out_file);
  guard.release();
}

}  // namespace medtrain::exporter
