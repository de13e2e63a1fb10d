#include "trainer/engine/heap_reuse.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace medtrain::engine {

bool keep_heap_between_steps() {
#if defined(__GLIBC__)
  // 32 MiB: glibc's largest accepted M_MMAP_THRESHOLD on 64-bit (mallopt
  // returns 0 for more). Setting either value turns off glibc's dynamic
  // adjustment of both, so both are set.
  constexpr int kMmapThreshold = 32 << 20;
  const bool mmap_ok = mallopt(M_MMAP_THRESHOLD, kMmapThreshold) == 1;
  const bool trim_ok = mallopt(M_TRIM_THRESHOLD, static_cast<int>(kTrimThresholdBytes)) == 1;
  return mmap_ok && trim_ok;
#else
  return false;
#endif
}

}  // namespace medtrain::engine
