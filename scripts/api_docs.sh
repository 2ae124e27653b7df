#!/bin/sh
# Builds the API reference from the public headers with Doxygen into build/docs/api/html/.
# Fails, listing them, when a public name has no documentation comment.
set -eu
cd "$(dirname "$0")/.."
. scripts/common.sh
require_packages $BUILD_PACKAGES doxygen
configure -DDESCENT_BUILD_TESTS=OFF -DDESCENT_BUILD_EXAMPLES=OFF -DDESCENT_BUILD_BENCH=OFF
cmake --build build --target docs
echo "api_docs.sh: open build/docs/api/html/index.html"
