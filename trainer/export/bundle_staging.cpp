#include "trainer/export/bundle_staging.h"

#include <unistd.h>

#include <string>
#include <system_error>
#include <utility>

#include "trainer/checkpoint/atomic_file.h"
#include "trainer/user_error.h"

namespace medtrain::exporter {

namespace fs = std::filesystem;

bool is_nonempty_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec) && fs::directory_iterator(p, ec) != fs::directory_iterator();
}

BundleStaging::BundleStaging(fs::path out) : out_(std::move(out)) {
  const fs::path out_abs = fs::absolute(out_).lexically_normal();
  dir_ = out_abs.parent_path() / (".tmp-" + out_abs.filename().string() + "-" + std::to_string(getpid()));
  std::error_code ec;
  fs::remove_all(dir_, ec);
  if (!fs::create_directory(dir_, ec)) {
    throw UserError("--out " + out_.string() + ": cannot create " + dir_.string() + ": " + ec.message());
  }
}

BundleStaging::~BundleStaging() {
  std::error_code ec;
  if (!committed_) fs::remove_all(dir_, ec);
}

void BundleStaging::commit() {
  checkpoint::fsync_directory(dir_);
  std::error_code ec;
  fs::path old;
  if (is_nonempty_dir(out_)) {  // --overwrite: move the old bundle aside first
    old = dir_.string() + ".old";
    fs::rename(out_, old, ec);
    if (ec) throw UserError("--out " + out_.string() + ": cannot move the old folder aside: " + ec.message());
  }
  fs::rename(dir_, out_, ec);  // replaces an empty directory atomically
  if (ec) throw UserError("--out " + out_.string() + ": cannot rename the new bundle into place: " + ec.message());
  committed_ = true;
  checkpoint::fsync_directory(fs::absolute(out_).parent_path());
  if (!old.empty()) fs::remove_all(old, ec);
}

}  // namespace medtrain::exporter
