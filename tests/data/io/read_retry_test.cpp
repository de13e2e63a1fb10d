// The retry policy of data/io/read_retry.h with an injected failing reader:
// which errors are retried, how often, with which waits, and that the last
// error survives; and that read_user_file tells transient failures apart.
#include "data/io/read_retry.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <vector>

#include "data/io/user_file.h"

namespace medtrain::data::io {
namespace {

// Fails its first `failures` calls with `make_error(call)`, then returns 42.
struct FailingReader {
  int failures;
  int calls = 0;
  int operator()() {
    ++calls;
    if (calls <= failures) throw TransientReadError("nas/p" + std::to_string(calls) + ".dcm: cannot read: I/O error");
    return 42;
  }
};

TEST(ReadRetry, TransientErrorsAreReadAgainUntilTheReadSucceeds) {
  RetryPolicy policy;  // 3 retries
  FailingReader read{2};
  std::vector<int> retries;
  const int got = with_read_retries(policy, std::ref(read), [&](int retry, const TransientReadError&) {
    retries.push_back(retry);
    return true;
  });
  EXPECT_EQ(got, 42);
  EXPECT_EQ(read.calls, 3);
  EXPECT_EQ(retries, (std::vector<int>{1, 2}));
}

TEST(ReadRetry, TheLastErrorIsRethrownWhenRetriesRunOut) {
  RetryPolicy policy;
  policy.retries = 2;
  FailingReader read{100};
  int retries = 0;
  try {
    with_read_retries(policy, std::ref(read), [&](int, const TransientReadError&) { return ++retries, true; });
    FAIL() << "no error";
  } catch (const TransientReadError& e) {
    EXPECT_STREQ(e.what(), "nas/p3.dcm: cannot read: I/O error");  // the third (last) attempt's
  }
  EXPECT_EQ(read.calls, 3);
  EXPECT_EQ(retries, 2);
}

TEST(ReadRetry, ZeroRetriesReadsOnce) {
  RetryPolicy policy;
  policy.retries = 0;
  FailingReader read{1};
  EXPECT_THROW(with_read_retries(policy, std::ref(read), [](int, const TransientReadError&) { return true; }),
               TransientReadError);
  EXPECT_EQ(read.calls, 1);
}

TEST(ReadRetry, OtherErrorsAreNotRetried) {
  int calls = 0;
  auto read = [&]() -> int {
    ++calls;
    throw DataError("nas/p.dcm: not a DICOM file");
  };
  EXPECT_THROW(with_read_retries(RetryPolicy{}, read, [](int, const TransientReadError&) { return true; }),
               DataError);
  EXPECT_EQ(calls, 1);
}

TEST(ReadRetry, GivingUpEarlyRethrows) {  // the loader stops during a back-off
  FailingReader read{1};
  EXPECT_THROW(with_read_retries(RetryPolicy{}, std::ref(read), [](int, const TransientReadError&) { return false; }),
               TransientReadError);
  EXPECT_EQ(read.calls, 1);
}

TEST(ReadRetry, BackoffDoublesUpToTheCap) {
  RetryPolicy p;
  p.backoff_ms = 100;
  p.max_backoff_ms = 1000;
  EXPECT_EQ(retry_delay(p, 1).count(), 100);
  EXPECT_EQ(retry_delay(p, 2).count(), 200);
  EXPECT_EQ(retry_delay(p, 3).count(), 400);
  EXPECT_EQ(retry_delay(p, 4).count(), 800);
  EXPECT_EQ(retry_delay(p, 5).count(), 1000);
  EXPECT_EQ(retry_delay(p, 60).count(), 1000);  // no overflow
  p.backoff_ms = 0;
  EXPECT_EQ(retry_delay(p, 3).count(), 0);
}

TEST(ReadRetry, TransientErrnosAreTheNasOnes) {
  for (int err : {EIO, ESTALE, EINTR, EAGAIN, ETIMEDOUT}) EXPECT_TRUE(is_transient_errno(err)) << err;
  for (int err : {ENOENT, EACCES, EISDIR, ENOSPC, EINVAL}) EXPECT_FALSE(is_transient_errno(err)) << err;
  EXPECT_THROW(throw_read_error(EIO, "x: cannot read"), TransientReadError);
  try {
    throw_read_error(EACCES, "x: cannot read");
  } catch (const TransientReadError&) {
    FAIL() << "EACCES is not transient";
  } catch (const DataError& e) {
    EXPECT_STREQ(e.what(), "x: cannot read: Permission denied");
  }
}

TEST(ReadRetry, AMissingFileIsNotTransient) {
  try {
    read_user_file("/nonexistent/medtrain/p.dcm", "DICOM file", kMaxDicomBytes);
    FAIL() << "no error";
  } catch (const TransientReadError&) {
    FAIL() << "ENOENT is not transient";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace medtrain::data::io
