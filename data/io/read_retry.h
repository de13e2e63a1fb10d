#pragma once
// Transient storage errors and the bounded retry of a read.
//
// Note [Transient reads]: a NAS fails in ordinary, passing ways: a read returns
// EIO while a server fails over, a handle goes stale (ESTALE) and needs a new
// open, a request is interrupted or would block (EINTR, EAGAIN), and a FUSE or
// NFS client shows a file that ends early (a short read: fewer bytes than its
// size said). Those throw TransientReadError, which a caller may retry by
// reading again from the open on (a new descriptor, so a stale handle is
// replaced). Everything else is a plain DataError and is not retried: a missing
// file (ENOENT), no permission (EACCES), a file that is consistently not DICOM,
// a shard record whose checksum does not match bytes read in full (the storage
// returned what the file holds; reading again would return it again).
// Thread-safe; no state.
#include <chrono>
#include <functional>
#include <string>
#include <utility>

#include "data/data_error.h"

namespace medtrain::data::io {

// A read that may succeed when repeated (Note [Transient reads]).
class TransientReadError : public DataError {
 public:
  using DataError::DataError;
};

// EIO, ESTALE, EINTR, EAGAIN/EWOULDBLOCK (and ETIMEDOUT, an NFS soft mount's).
bool is_transient_errno(int err);

// Throws TransientReadError("<what>: <strerror>") for a transient errno,
// DataError otherwise.
[[noreturn]] void throw_read_error(int err, const std::string& what);

struct RetryPolicy {
  int retries = 3;           // extra attempts after a transient error (data.read_retries)
  int backoff_ms = 100;      // wait before the first retry, doubling (data.read_retry_backoff_ms)
  int max_backoff_ms = 10000;  // the doubling stops here
};

// The wait before retry number `retry` (1 = the first): backoff_ms * 2^(retry-1),
// at most max_backoff_ms.
std::chrono::milliseconds retry_delay(const RetryPolicy& policy, int retry);

// Calls read() until it returns; a TransientReadError makes it call
// before_retry(retry, error) -- which counts and waits retry_delay, and returns
// false to give up early (the loader is stopping) -- then read() again, at most
// policy.retries times. The last TransientReadError is rethrown when retries
// run out; any other exception passes through at once.
template <class Read>
auto with_read_retries(const RetryPolicy& policy, Read&& read,
                       const std::function<bool(int, const TransientReadError&)>& before_retry) {
  for (int retry = 1;; ++retry) {
    try {
      return read();
    } catch (const TransientReadError& e) {
      if (retry > policy.retries || !before_retry(retry, e)) throw;
    }
  }
}

}  // namespace medtrain::data::io
