#!/bin/sh
# Builds everything in Release into build/ and runs every test through ctest.
set -eu
cd "$(dirname "$0")/.."
. scripts/common.sh
require_packages $BUILD_PACKAGES libxml2-utils

start=$(date +%s)
configure -DDESCENT_BUILD_TESTS=ON -DDESCENT_BUILD_EXAMPLES=ON -DDESCENT_BUILD_BENCH=ON
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j"$(nproc)"
echo "test.sh: all tests passed in $(( $(date +%s) - start )) s"
