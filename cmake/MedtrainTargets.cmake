# Helpers shared by the per-folder CMakeLists.

# One precompiled header for everything that includes LibTorch: compiled once,
# reused by every library, test and benchmark target (same flags everywhere).
add_library(medtrain_pch STATIC ${PROJECT_SOURCE_DIR}/cmake/pch_anchor.cpp)
target_link_libraries(medtrain_pch PUBLIC ${TORCH_LIBRARIES} medtrain_fmt)
target_precompile_headers(medtrain_pch PRIVATE <torch/torch.h> <string> <vector> <memory>)

# Note [PCH only where LibTorch is]: GCC loads the 700 MB LibTorch PCH into
# every translation unit that uses it, ~15 s each on our 2-core machines.
# That pays off only for files that include LibTorch (which parse it in ~25 s
# otherwise): a file that never reaches a torch/ATen/c10 header compiled 3x
# faster without it. So each source is scanned at configure time, following
# the repository's own "..." includes, and torch-free ones skip the PCH. The
# scan only decides speed, never correctness: every file includes what it uses.
function(_medtrain_reaches_torch file out)
  get_property(_known GLOBAL PROPERTY "_mt_torch:${file}" SET)
  if(_known)
    get_property(_v GLOBAL PROPERTY "_mt_torch:${file}")
    set(${out} ${_v} PARENT_SCOPE)
    return()
  endif()
  set_property(GLOBAL PROPERTY "_mt_torch:${file}" FALSE)  # include cycles end here
  set(_r FALSE)
  file(STRINGS ${file} _includes REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]")
  foreach(_line IN LISTS _includes)
    if(_line MATCHES "[<\"](torch|ATen|c10)/")
      set(_r TRUE)
    elseif(_line MATCHES "\"([^\"]+)\"" AND EXISTS "${PROJECT_SOURCE_DIR}/${CMAKE_MATCH_1}")
      _medtrain_reaches_torch("${PROJECT_SOURCE_DIR}/${CMAKE_MATCH_1}" _r)
    endif()
    if(_r)
      break()
    endif()
  endforeach()
  set_property(GLOBAL PROPERTY "_mt_torch:${file}" ${_r})
  set(${out} ${_r} PARENT_SCOPE)
endfunction()

# medtrain_reuse_pch(TARGET): the shared PCH for the target's C++ sources that
# reach LibTorch (Note [PCH only where LibTorch is]).
function(medtrain_reuse_pch target)
  target_precompile_headers(${target} REUSE_FROM medtrain_pch)
  get_target_property(_srcs ${target} SOURCES)
  get_target_property(_dir ${target} SOURCE_DIR)
  foreach(_src IN LISTS _srcs)
    if(NOT _src MATCHES "\\.cpp$")
      continue()
    endif()
    get_filename_component(_abs "${_src}" ABSOLUTE BASE_DIR "${_dir}")
    _medtrain_reaches_torch("${_abs}" _torch)
    if(NOT _torch)
      set_source_files_properties("${_abs}" TARGET_DIRECTORY ${target}
                                  PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
    endif()
  endforeach()
endfunction()

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
  medtrain_reuse_pch(${name})
  if(MEDTRAIN_CUDA)
    target_compile_definitions(${name} PUBLIC MEDTRAIN_WITH_CUDA=1)
  endif()
endfunction()
