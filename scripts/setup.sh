#!/usr/bin/env bash
# Installs what medtrain needs (Debian packages, a Python venv with the pinned
# torch wheel and the test references), then configures and builds.
# Idempotent: a second run only rebuilds what changed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

APT_PACKAGES=(build-essential cmake ninja-build ccache pkg-config python3-venv
  libdcmtk-dev dcmtk libyaml-cpp-dev libcli11-dev
  nlohmann-json3-dev libopenmpi-dev openmpi-bin libgtest-dev libgmock-dev
  libbenchmark-dev libzstd-dev libssl-dev
  slurm-wlm munge iproute2 procps libopenjp2-7-dev libopenjp2-tools clang-14 libclang-rt-14-dev util-linux
  libfuse3-dev fuse3 libonnx-dev libprotobuf-dev protobuf-compiler
  libtesseract-dev libleptonica-dev tesseract-ocr tesseract-ocr-eng fonts-dejavu-core
  libutf8proc-dev libsndfile1-dev libsoxr-dev espeak-ng libnifti2-dev
  libpng-dev libcairo2-dev chromium libdnnl-dev)

install_debian_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  say "installing Debian packages: ${missing[*]}"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

install_python_packages() {
  if [ ! -x "$MEDTRAIN_PY" ]; then
    say "creating virtualenv $MEDTRAIN_VENV"
    python3 -m venv "$MEDTRAIN_VENV"
  fi
  local stamp="$MEDTRAIN_VENV/.medtrain-requirements"
  if ! cmp -s "$MEDTRAIN_ROOT/scripts/requirements.txt" "$stamp"; then
    say "installing Python packages (torch 2.11 wheel: a few GB the first time)"
    # Install from a snapshot and stamp that snapshot, so an edit made while pip
    # runs is installed next time rather than marked done.
    local snapshot="$stamp.installing"
    cp "$MEDTRAIN_ROOT/scripts/requirements.txt" "$snapshot"
    "$MEDTRAIN_PY" -m pip install -q --disable-pip-version-check -r "$snapshot"
    mv "$snapshot" "$stamp"
  fi
}

configure_and_build() {
  if [ ! -f "$MEDTRAIN_BUILD/build.ninja" ]; then
    say "configuring $MEDTRAIN_BUILD"
    cmake -S "$MEDTRAIN_ROOT" -B "$MEDTRAIN_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DMEDTRAIN_PYTHON="$MEDTRAIN_PY" ${MEDTRAIN_CMAKE_ARGS:-} >"$MEDTRAIN_BUILD.configure.log" 2>&1 \
      || { cat "$MEDTRAIN_BUILD.configure.log"; die "cmake configure failed"; }
  fi
  say "building (ninja, $(nproc) jobs, ccache)"
  cmake --build "$MEDTRAIN_BUILD" -j "$(nproc)" || die "build failed"
}

install_debian_packages
install_python_packages
configure_and_build
