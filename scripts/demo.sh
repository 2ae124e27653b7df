#!/bin/sh
# Builds in Release and runs the two flagship examples:
#   trajectories  every optimizer's path over five 2-D test functions, one SVG per function in
#                 build/trajectories/, and a table of who got closest;
#   showdown      the same network trained on Fashion-MNIST once per optimizer (3 epochs),
#                 a table, build/showdown/showdown.csv and build/showdown/showdown.svg.
# Without Fashion-MNIST (and without root to install it) the showdown runs on synthetic data
# and says so.
set -eu
cd "$(dirname "$0")/.."
. scripts/common.sh
require_packages $BUILD_PACKAGES

# The dataset is optional: require_packages exits when it cannot install, so ask in a subshell.
if ! (require_packages dataset-fashion-mnist); then
  echo "demo.sh: going on without Fashion-MNIST; the showdown will use synthetic data."
fi

configure -DDESCENT_BUILD_EXAMPLES=ON -DDESCENT_COMPILED=ON  # the compiled mode: a faster build
cmake --build build -j"$(nproc)" --target trajectories showdown
./build/examples/trajectories --out build/trajectories
echo
./build/examples/showdown --epochs 3 --out build/showdown
echo
echo "demo.sh: open the pictures in build/trajectories/ and build/showdown/showdown.svg"
echo "         (any web browser shows SVG)"
