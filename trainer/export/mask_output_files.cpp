#include "trainer/export/mask_output_files.h"

#include <fcntl.h>  // AT_FDCWD
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>  // renameat2, RENAME_NOREPLACE (glibc, _GNU_SOURCE)
#include <cstring>
#include <system_error>

#include "trainer/user_error.h"

namespace medtrain::exporter::detail {

namespace fs = std::filesystem;

void prepare_mask_target(const fs::path& out_file) {
  std::error_code ec;
  if (fs::exists(fs::symlink_status(out_file, ec))) {
    throw UserError(fmt::format("{}: exists; medtrain does not overwrite masks (remove it or choose another output)",
                                out_file.string()));
  }
  const fs::path parent = out_file.parent_path();
  if (!parent.empty() && !fs::create_directories(parent, ec) && ec) {
    throw UserError(fmt::format("{}: cannot create the folder: {}", parent.string(), ec.message()));
  }
}

void check_mask_labels(const fs::path& out_file, const at::Tensor& labels, const data::SeriesVolume& series,
                       int64_t class_count, SliceSource slices) {
  const std::string where = out_file.string();
  if (!labels.defined() || labels.scalar_type() != at::kByte || labels.dim() != 3) {
    throw UserError(fmt::format("{}: the mask must be uint8 [D, H, W], got {}", where,
                                labels.defined() ? labels.toString() + " " + std::to_string(labels.dim()) + "-D"
                                                 : std::string("no tensor")));
  }
  const auto files = static_cast<int64_t>(series.files.size());
  if (slices == SliceSource::kOneFilePerSlice && files == 1 && labels.size(0) > 1) {
    throw UserError(fmt::format("{}: {} is one multi-frame file; a DICOM SEG is written over a series of "
                                "single-frame slices only (write NIfTI or .npy)",
                                where, series.files.front()));
  }
  int64_t depth = files;
  if (slices == SliceSource::kGeometryOnly) {
    depth = series.voxels.defined() ? series.voxels.size(0) : (files == 1 ? labels.size(0) : files);
  }
  if (labels.size(0) != depth) {
    throw UserError(fmt::format("{}: the mask has {} slices but the series has {}", where, labels.size(0),
                                series.voxels.defined() && slices == SliceSource::kGeometryOnly
                                    ? std::to_string(depth)
                                    : std::to_string(depth) + " files"));
  }
  if (class_count > 0 && labels.numel() > 0) {
    const int64_t top = labels.max().item<int64_t>();
    if (top >= class_count) {
      throw UserError(fmt::format("{}: the mask holds class {} but only {} label names are given (classes 0..{})",
                                  where, top, class_count, class_count - 1));
    }
  }
}

fs::path temporary_sibling(const fs::path& out_file) {
  const fs::path name = fmt::format(".partial-{}-{}", static_cast<long>(::getpid()), out_file.filename().string());
  return out_file.parent_path() / name;
}

void publish_mask_file(const fs::path& temp, const fs::path& out_file) {
  // RENAME_NOREPLACE: a file written under the target name after
  // prepare_mask_target looked is kept, not silently replaced.
  int rc = ::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, out_file.c_str(), RENAME_NOREPLACE);
  if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {  // a file system without the flag
    std::error_code ec;
    if (fs::exists(out_file, ec)) {
      errno = EEXIST;
    } else {
      rc = ::rename(temp.c_str(), out_file.c_str());
    }
  }
  if (rc != 0) {
    const int err = errno;
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw UserError(fmt::format("{}: cannot move the finished mask into place: {}", out_file.string(),
                                std::strerror(err)));
  }
}

TempFileGuard::~TempFileGuard() {
  if (temp_.empty()) return;
  std::error_code ignored;
  fs::remove(temp_, ignored);
}

}  // namespace medtrain::exporter::detail
