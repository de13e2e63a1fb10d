// Built instead of conv_primitive.cpp when no oneDNN library was found
// (models/CMakeLists.txt): callers check available() and use ATen's oneDNN.
#include <stdexcept>

#include "models/cv/onednn/conv_primitive.h"

namespace medtrain::models::onednn {

struct ConvPrimitive::Impl {};

ConvPrimitive::ConvPrimitive(const ConvShape&, const float*, const float*, PostOp) {
  throw std::logic_error("medtrain was built without its own oneDNN (Debian libdnnl-dev)");
}
ConvPrimitive::~ConvPrimitive() = default;
const std::vector<int64_t>& ConvPrimitive::out_size() const {
  static const std::vector<int64_t> none;
  return none;
}
size_t ConvPrimitive::scratchpad_bytes() const { return 0; }
void ConvPrimitive::run(const float*, float*, void*) const {}
std::string ConvPrimitive::implementation() const { return {}; }

bool available() { return false; }
bool winograd_enabled() { return false; }

}  // namespace medtrain::models::onednn
