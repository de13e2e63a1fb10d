#pragma once
// A bundle is written into a staging folder beside --out and renamed into
// place only once complete, so --out never holds half a bundle: a failed or
// interrupted export leaves the old one (or nothing). Used by the image/text
// export (export_bundle.h) and the Whisper export (whisper_bundle.h). The
// caller holds the --out lock (data/io/output_lock.h) around the whole life.
#include <filesystem>

namespace medtrain::exporter {

// True for a directory holding at least one entry (false when missing).
bool is_nonempty_dir(const std::filesystem::path& p);

class BundleStaging {
 public:
  // Creates (empties) "<parent of out>/.tmp-<name of out>-<pid>". Throws
  // UserError naming --out when it cannot be created.
  explicit BundleStaging(std::filesystem::path out);
  // Removes the staging folder unless it was committed.
  ~BundleStaging();
  BundleStaging(const BundleStaging&) = delete;
  BundleStaging& operator=(const BundleStaging&) = delete;

  const std::filesystem::path& dir() const { return dir_; }

  // fsyncs the staging folder, moves a non-empty --out aside (--overwrite),
  // renames the staging folder to --out, fsyncs its parent and removes the
  // old bundle. Throws UserError naming --out when a rename fails.
  void commit();

 private:
  std::filesystem::path out_;  // as the user gave it (messages name it so)
  std::filesystem::path dir_;
  bool committed_ = false;
};

}  // namespace medtrain::exporter
