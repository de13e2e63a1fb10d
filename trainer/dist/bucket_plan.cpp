#include "trainer/dist/bucket_plan.h"

#include <algorithm>

namespace medtrain::dist {

std::vector<std::vector<size_t>> plan_buckets(const std::vector<ParamSlot>& params, BucketLimits limits) {
  std::vector<std::vector<size_t>> buckets;
  size_t bytes = 0;
  for (size_t k = params.size(); k-- > 0;) {
    const size_t need = static_cast<size_t>(params[k].numel) * params[k].element_size;
    const size_t cap = buckets.size() == 1 ? std::min(limits.first_bucket_bytes, limits.bucket_bytes)
                                           : limits.bucket_bytes;
    // A parameter larger than the cap still gets a bucket (of its own).
    const bool start_new = buckets.empty() || params[buckets.back().front()].dtype != params[k].dtype ||
                           bytes + need > cap;
    if (start_new) {
      buckets.emplace_back();
      bytes = 0;
    }
    buckets.back().push_back(k);
    bytes += need;
  }
  return buckets;
}

}  // namespace medtrain::dist
