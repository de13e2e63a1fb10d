#include "trainer/dist/text_broadcast.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>

namespace medtrain::dist {

std::string broadcast_text(Communicator& comm, const std::string& text, int root, c10::Device device) {
  // One fixed-size collective: the length travels in the first 8 bytes.
  auto buffer = at::zeros({static_cast<int64_t>(kMaxBroadcastText + sizeof(int64_t))}, at::kByte);
  if (comm.rank() == root) {
    const int64_t n = static_cast<int64_t>(std::min(text.size(), kMaxBroadcastText));
    std::memcpy(buffer.data_ptr<uint8_t>(), &n, sizeof n);
    std::memcpy(buffer.data_ptr<uint8_t>() + sizeof n, text.data(), static_cast<size_t>(n));
  }
  buffer = buffer.to(device);
  comm.broadcast(buffer, root);
  buffer = buffer.cpu();
  int64_t n = 0;
  std::memcpy(&n, buffer.data_ptr<uint8_t>(), sizeof n);
  n = std::clamp<int64_t>(n, 0, static_cast<int64_t>(kMaxBroadcastText));
  return std::string(reinterpret_cast<const char*>(buffer.data_ptr<uint8_t>()) + sizeof n, static_cast<size_t>(n));
}

}  // namespace medtrain::dist
