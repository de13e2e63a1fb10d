# Helpers shared by the per-folder CMakeLists.

# One precompiled header for everything that includes LibTorch: compiled once,
# reused by every library, test and benchmark target (same flags everywhere).
add_library(medtrain_pch STATIC ${PROJECT_SOURCE_DIR}/cmake/pch_anchor.cpp)
target_link_libraries(medtrain_pch PUBLIC ${TORCH_LIBRARIES} medtrain_fmt)
target_precompile_headers(medtrain_pch PRIVATE <torch/torch.h> <string> <vector> <memory>)

# medtrain_library(NAME DIR [EXCLUDE "SUBDIR[;SUBDIR...]"] DEPS...): a static
# library from every .cpp (and .cu when CUDA is on) under DIR, includes rooted
# at the repository. EXCLUDE (one argument, a list) names sub-folders of DIR that
# build as libraries of their own, e.g. code that must not see LibTorch's headers.
function(medtrain_library name dir)
  cmake_parse_arguments(PARSE_ARGV 2 _lib "" "EXCLUDE" "")
  file(GLOB_RECURSE _srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${dir}/*.cpp)
  list(FILTER _srcs EXCLUDE REGEX "/main\\.cpp$")
  foreach(_sub ${_lib_EXCLUDE})
    list(FILTER _srcs EXCLUDE REGEX "/${dir}/${_sub}/")
  endforeach()
  set(_cu "")
  if(MEDTRAIN_CUDA)
    file(GLOB_RECURSE _cu CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${dir}/*.cu)
    # The shared PCH is a C++ one; nvcc translation units compile without it.
    set_source_files_properties(${_cu} PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
    list(APPEND _srcs ${_cu})
  endif()
  if(NOT _srcs)  # a folder whose first sources are still to be written
    set(_srcs ${PROJECT_SOURCE_DIR}/cmake/pch_anchor.cpp)
  endif()
  add_library(${name} STATIC ${_srcs})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${_lib_UNPARSED_ARGUMENTS} medtrain_fmt)
  target_precompile_headers(${name} REUSE_FROM medtrain_pch)
  if(MEDTRAIN_CUDA)
    target_compile_definitions(${name} PUBLIC MEDTRAIN_WITH_CUDA=1)
  endif()
endfunction()
