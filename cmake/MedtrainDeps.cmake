# Dependency discovery. LibTorch comes from the pip torch wheel: ask its Python
# where the CMake package lives, so one pinned wheel serves Python and C++.
if(NOT MEDTRAIN_PYTHON)
  find_program(MEDTRAIN_PYTHON NAMES python3 python REQUIRED)
endif()
execute_process(
  COMMAND ${MEDTRAIN_PYTHON} -c "import torch, torch.utils; print(torch.utils.cmake_prefix_path); print(torch.__version__)"
  OUTPUT_VARIABLE _torch_out RESULT_VARIABLE _torch_rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _torch_rc EQUAL 0)
  message(FATAL_ERROR "medtrain: ${MEDTRAIN_PYTHON} cannot import torch; run scripts/setup.sh or pass -DMEDTRAIN_PYTHON=<python with torch>")
endif()
string(REPLACE "\n" ";" _torch_out "${_torch_out}")
list(GET _torch_out 0 _torch_prefix)
list(GET _torch_out 1 MEDTRAIN_TORCH_VERSION)
list(APPEND CMAKE_PREFIX_PATH ${_torch_prefix})
message(STATUS "medtrain: LibTorch ${MEDTRAIN_TORCH_VERSION} from ${_torch_prefix}")

# Torch's config probes CUDA itself when the wheel is a CUDA build.
set(CAFFE2_USE_CUDNN OFF)
# Without a GPU Torch would target every architecture it knows; pin the ones we
# ship (A100, H100/H200 + PTX), matching CMAKE_CUDA_ARCHITECTURES.
if(NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
  set(ENV{TORCH_CUDA_ARCH_LIST} "8.0;9.0+PTX")
endif()
find_package(Torch REQUIRED)
# Torch appends its own flags (e.g. -D_GLIBCXX_USE_CXX11_ABI) to CMAKE_CXX_FLAGS.
set(CMAKE_CXX_FLAGS "${CMAKE_CXX_FLAGS} ${TORCH_CXX_FLAGS}")

find_package(MPI REQUIRED COMPONENTS C)
find_package(yaml-cpp REQUIRED)
find_package(DCMTK REQUIRED CONFIG)
find_package(CLI11 REQUIRED)
# Note [fmt]: the torch wheel ships fmt 12 headers in torch/include, which sits
# before /usr/include on every compile line, so `#include <fmt/format.h>` always
# means torch's fmt. Linking Debian's libfmt 9 against those headers fails, and
# Debian's spdlog is built on fmt 9 as well; so we use torch's fmt and do not
# use spdlog. One fmt, no ABI mix. Its compiled half (what fmt's own
# src/format.cc builds) is one static library, not header-only: header-only
# costs every translation unit ~5 s. (libc10 exports no fmt symbols: no clash.)
add_library(medtrain_fmt STATIC ${PROJECT_SOURCE_DIR}/cmake/fmt_impl.cpp)
target_include_directories(medtrain_fmt SYSTEM PUBLIC ${TORCH_INCLUDE_DIRS})
find_package(nlohmann_json REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(Threads REQUIRED)
# Pictures (trainer/metrics/png_codec.h, chart.h): PNG through libpng, charts
# drawn by cairo (Debian libpng-dev, libcairo2-dev).
find_package(PNG REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(CAIRO REQUIRED IMPORTED_TARGET GLOBAL cairo)

if(MEDTRAIN_CUDA)
  find_package(CUDAToolkit REQUIRED)
  # Note [one NCCL]: libtorch_cuda already loads the NCCL of the pip package
  # nvidia-nccl (a dependency of the torch wheel). Linking a second copy from
  # the toolkit would put two libnccl.so.2 in one process, so we use the pip
  # one and only fall back to the toolkit's (which CI machines may lack).
  execute_process(
    COMMAND ${MEDTRAIN_PYTHON} -c "import nvidia.nccl as n; print(list(n.__path__)[0])"
    OUTPUT_VARIABLE _pip_nccl ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
  find_path(NCCL_INCLUDE_DIR nccl.h
    HINTS ${_pip_nccl}/include ${CUDAToolkit_INCLUDE_DIRS} NO_DEFAULT_PATH)
  find_library(NCCL_LIBRARY NAMES nccl libnccl.so.2 NAMES_PER_DIR
    HINTS ${_pip_nccl}/lib ${CUDAToolkit_LIBRARY_DIR} ${CUDAToolkit_LIBRARY_ROOT}/lib NO_DEFAULT_PATH)
  if(NOT NCCL_INCLUDE_DIR OR NOT NCCL_LIBRARY)
    message(FATAL_ERROR "medtrain: MEDTRAIN_CUDA=ON but NCCL was found neither in the pip package nvidia-nccl nor next to the CUDA toolkit; run scripts/setup.sh or configure with -DMEDTRAIN_CUDA=OFF")
  endif()
  add_library(medtrain::nccl UNKNOWN IMPORTED)
  set_target_properties(medtrain::nccl PROPERTIES
    IMPORTED_LOCATION ${NCCL_LIBRARY} INTERFACE_INCLUDE_DIRECTORIES ${NCCL_INCLUDE_DIR})
  message(STATUS "medtrain: CUDA ${CUDAToolkit_VERSION}, NCCL ${NCCL_LIBRARY}")
endif()
