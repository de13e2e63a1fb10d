// keep_heap_between_steps (Note [Heap kept between steps]): blocks up
// to 32 MiB come from the heap afterwards, larger ones are still mapped.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "trainer/engine/heap_reuse.h"

#if defined(__GLIBC__)
#include <malloc.h>

namespace medtrain::engine {
namespace {

// Blocks glibc currently serves with their own mapping.
size_t mapped_blocks() { return mallinfo2().hblks; }

// Allocates `bytes`, touches it, reports whether that added a mapping.
bool allocation_is_mapped(size_t bytes) {
  const size_t before = mapped_blocks();
  void* p = std::malloc(bytes);
  EXPECT_NE(p, nullptr);
  std::memset(p, 1, bytes);
  const bool mapped = mapped_blocks() > before;
  std::free(p);
  return mapped;
}

TEST(HeapReuse, BlocksUpTo32MiBComeFromTheHeapAndLargerOnesAreStillMapped) {
  ASSERT_TRUE(keep_heap_between_steps());
  EXPECT_FALSE(allocation_is_mapped(size_t{8} << 20));
  EXPECT_FALSE(allocation_is_mapped(size_t{30} << 20));
  EXPECT_TRUE(allocation_is_mapped(size_t{48} << 20));
  EXPECT_TRUE(keep_heap_between_steps());  // idempotent
}

}  // namespace
}  // namespace medtrain::engine
#else
TEST(HeapReuse, NotGlibc) { GTEST_SKIP() << "keep_heap_between_steps only tunes glibc's malloc"; }
#endif
