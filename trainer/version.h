#pragma once
// medtrain's version: the project() version in CMakeLists.txt.
namespace medtrain {

inline constexpr const char* kVersion = MEDTRAIN_VERSION_STRING;

}  // namespace medtrain
