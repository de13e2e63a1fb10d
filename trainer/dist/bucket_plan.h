#pragma once
// Which gradients travel together. Parameters are taken in reverse order of
// registration (roughly the order backward produces their gradients), packed
// into buckets of at most `bucket_bytes`, with a smaller first bucket so that
// communication starts early in backward. A bucket holds one dtype only.
// Pure function of the parameter list: every rank computes the same plan.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace medtrain::dist {

struct ParamSlot {
  int64_t numel = 0;
  size_t element_size = 4;
  std::string dtype;  // buckets never mix dtypes
};

struct BucketLimits {
  size_t first_bucket_bytes = 1 << 20;
  size_t bucket_bytes = 25 << 20;
};

// Parameter indices per bucket, in launch order.
std::vector<std::vector<size_t>> plan_buckets(const std::vector<ParamSlot>& params, BucketLimits limits);

}  // namespace medtrain::dist
