#!/bin/sh
# Builds in Release and runs the flagship example: every optimizer's path over five 2-D test
# functions, one SVG per function in build/trajectories/, and a table of who got closest.
set -eu
cd "$(dirname "$0")/.."
. scripts/common.sh
require_packages $BUILD_PACKAGES

configure -DDESCENT_BUILD_EXAMPLES=ON
cmake --build build -j"$(nproc)" --target trajectories
./build/examples/trajectories --out build/trajectories
echo
echo "demo.sh: open the pictures in build/trajectories/ (any web browser shows SVG)"
