#pragma once
// CRC32C (Castagnoli) for shard records (and TensorBoard's TFRecord framing,
// trainer/metrics/crc32c.h). Fast because every sample read checks a whole
// record (~8 KiB to 512 KiB):
// the SSE4.2 crc32 instruction where the CPU has it (checked at run time),
// slicing-by-8 tables otherwise.
#include <cstddef>
#include <cstdint>

namespace medtrain::data::shard {

// Reflected polynomial 0x82F63B78, init and final xor 0xFFFFFFFF:
// crc32c("123456789", 9) == 0xE3069283. `crc` continues an earlier value.
uint32_t crc32c(const void* data, size_t size, uint32_t crc = 0);
// The table version alone, whatever the CPU (for tests of both paths).
uint32_t crc32c_portable(const void* data, size_t size, uint32_t crc = 0);

}  // namespace medtrain::data::shard
