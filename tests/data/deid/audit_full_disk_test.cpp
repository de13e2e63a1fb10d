// The audit log on a full disk: a record the disk has room for only half of is
// cut off again, so the log stays whole records (a later append, once a removed
// temporary file freed space, would otherwise follow a torn line: damage to the
// next run). A real ENOSPC from a tiny tmpfs; skipped with the reason without root.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "data/data_error.h"
#include "data/deid/audit.h"

namespace fs = std::filesystem;

namespace medtrain::data::deid {
namespace {

TEST(AuditLogFullDisk, AHalfWrittenRecordIsCutOff) {
  const fs::path disk = fs::temp_directory_path() / ("deid_audit_full_" + std::to_string(::getpid()));
  fs::create_directories(disk);
  if (::mount("tmpfs", disk.c_str(), "tmpfs", 0, "size=64k") != 0) {
    const std::string why = std::strerror(errno);
    fs::remove_all(disk);
    GTEST_SKIP() << "cannot mount a 64 KiB tmpfs (" << why << "): this test needs root for a real full disk";
  }
  {
    AuditLog log(disk.string());
    log.append({{"input_id", "a"}, {"status", "ok"}});
    const auto whole = fs::file_size(disk / kAuditFileName);
    // Every other free page taken: the log can grow only within its own first page.
    FILE* filler = std::fopen((disk / "filler").c_str(), "wb");
    ASSERT_NE(filler, nullptr);
    const std::string block(4096, 'x');
    while (std::fwrite(block.data(), 1, block.size(), filler) == block.size() && std::fflush(filler) == 0) {
    }
    std::fclose(filler);
    try {
      log.append({{"input_id", "b"}, {"status", "ok"}, {"padding", std::string(20000, 'p')}});
      ADD_FAILURE() << "a 20 KB record fitted on a full disk";
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find(std::strerror(ENOSPC)), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(kAuditFileName), std::string::npos) << e.what();
    }
    EXPECT_EQ(fs::file_size(disk / kAuditFileName), whole);
    fs::remove(disk / "filler");
    log.append({{"input_id", "c"}, {"status", "ok"}});  // space again: whole records follow whole records
  }
  const auto records = read_audit_records(disk.string());
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1]["input_id"], "c");
  ::umount2(disk.c_str(), MNT_DETACH);
  fs::remove_all(disk);
}

}  // namespace
}  // namespace medtrain::data::deid
