#include "data/io/read_retry.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace medtrain::data::io {

bool is_transient_errno(int err) {
  return err == EIO || err == ESTALE || err == EINTR || err == EAGAIN || err == EWOULDBLOCK || err == ETIMEDOUT;
}

void throw_read_error(int err, const std::string& what) {
  const std::string message = what + ": " + std::strerror(err);
  if (is_transient_errno(err)) throw TransientReadError(message);
  throw DataError(message);
}

std::chrono::milliseconds retry_delay(const RetryPolicy& policy, int retry) {
  long long ms = std::max(policy.backoff_ms, 0);
  for (int i = 1; i < retry && ms < policy.max_backoff_ms; ++i) ms *= 2;
  return std::chrono::milliseconds(std::min<long long>(ms, std::max(policy.max_backoff_ms, 0)));
}

}  // namespace medtrain::data::io
