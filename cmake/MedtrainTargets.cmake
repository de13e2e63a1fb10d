# Helpers shared by the per-folder CMakeLists.

# One precompiled header for everything that includes LibTorch: compiled once,
# reused by every library, test and benchmark target (same flags everywhere).
add_library(medtrain_pch STATIC ${PROJECT_SOURCE_DIR}/cmake/pch_anchor.cpp)
target_link_libraries(medtrain_pch PUBLIC ${TORCH_LIBRARIES} medtrain_fmt)
target_precompile_headers(medtrain_pch PRIVATE <torch/torch.h> <string> <vector> <memory>)

# medtrain_library(NAME DIR DEPS...): a static library from every .cpp (and .cu
# when CUDA is on) under DIR, includes rooted at the repository.
function(medtrain_library name dir)
  file(GLOB_RECURSE _srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${dir}/*.cpp)
  list(FILTER _srcs EXCLUDE REGEX "/main\\.cpp$")
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
  target_link_libraries(${name} PUBLIC ${ARGN} medtrain_fmt)
  target_precompile_headers(${name} REUSE_FROM medtrain_pch)
  if(MEDTRAIN_CUDA)
    target_compile_definitions(${name} PUBLIC MEDTRAIN_WITH_CUDA=1)
  endif()
endfunction()
