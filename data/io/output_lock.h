#pragma once
// Output folders have an owner: the command writing into a folder (deid, pack,
// export, train) holds an exclusive lock on <folder>/.medtrain.lock for as long
// as it runs. A second writer fails at once, naming the holder's pid, instead of
// interleaving its files with the first one's. The lock is flock(2): the kernel
// drops it when the process ends, however it ends, so a stale lock file left
// by a killed run never blocks the next one.
#include <string>

namespace medtrain::data::io {

inline constexpr const char* kLockFileName = ".medtrain.lock";

class OutputLock {
 public:
  // Creates `dir` if needed and takes its lock. Throws DataError ("<dir> is in use
  // by medtrain <command> (pid N); wait for it to end or choose another folder")
  // when another process holds it, or naming the problem when the folder cannot
  // be made or the lock file is a link.
  OutputLock(const std::string& dir, const std::string& command);
  // For an output that is replaced whole by a rename (an export bundle): the lock
  // is the file `lock_name` in `dir`, the output's parent, which outlives it.
  OutputLock(const std::string& dir, const std::string& command, const std::string& lock_name);
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace medtrain::data::io
