#!/usr/bin/env bash
# Copies what the GPU validation build needs but the device machine lacks
# (it has torch, nvcc and CMake, but no Debian packages) into build-gpu-deps/,
# an ignored folder the device tool carries:
#   googletest/  the sources Debian's libgtest-dev ships (/usr/src/googletest),
#                built there by add_subdirectory
#   benchmark/   Google Benchmark: headers + shared library of libbenchmark-dev
#                (Debian ships no static libbenchmark.a; the .so needs only
#                libstdc++/glibc, which the device image has)
# Then, from the device tool:
#   run(command="bash scripts/gpu/validate.sh", carry=["build-gpu-deps"])
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dest=${1:-$root/build-gpu-deps}
gtest_src=/usr/src/googletest
bench_inc=/usr/include/benchmark
bench_lib=$(ls /usr/lib/x86_64-linux-gnu/libbenchmark.so.1.* 2>/dev/null | head -n1 || true)

[[ -f $gtest_src/CMakeLists.txt ]] || { echo "prepare_carry: $gtest_src missing; apt-get install libgtest-dev" >&2; exit 1; }
[[ -d $bench_inc && -n $bench_lib ]] || { echo "prepare_carry: Google Benchmark missing; apt-get install libbenchmark-dev" >&2; exit 1; }

rm -rf "$dest"
mkdir -p "$dest/benchmark/include" "$dest/benchmark/lib"
cp -r "$gtest_src" "$dest/googletest"
cp -r "$bench_inc" "$dest/benchmark/include/"
cp "$bench_lib" "$dest/benchmark/lib/libbenchmark.so"
soname=$(readelf -d "$bench_lib" 2>/dev/null | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[[ -n $soname ]] && cp "$bench_lib" "$dest/benchmark/lib/$soname"  # the name executables ask for
echo "prepare_carry: $(du -sh "$dest" | cut -f1) in $dest (googletest sources, benchmark $(basename "$bench_lib"))"
