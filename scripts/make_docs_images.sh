#!/bin/sh
# Regenerates the pictures in docs/images/ from the example programs, so the docs show what the
# code does today. Builds the examples in Release (in $BUILD_DIR, default build/), runs them and
# copies their SVGs:
#   trajectory_<function>.svg, trajectory_{bowl,saddle}_animated.svg   trajectories --animate
#   showdown.svg                                                         showdown, 5 epochs
#   regression.svg                                                       regression
#   sweep_<hyperparameter>.svg                                           hyperparameters --quick
# Needs Fashion-MNIST (dataset-fashion-mnist). Takes about 5 minutes on 2 cores, most of it the
# showdown and the sweeps. Commit the changed images with the change that changed them.
set -eu
cd "$(dirname "$0")/.."
. scripts/common.sh
require_packages $BUILD_PACKAGES dataset-fashion-mnist libxml2-utils

build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DDESCENT_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target trajectories showdown regression hyperparameters
out="$build/docs-images"
rm -rf "$out"
mkdir -p "$out" docs/images

"$build/examples/trajectories" --animate --out "$out/trajectories"
"$build/examples/showdown" --epochs 5 --out "$out/showdown"
"$build/examples/regression" --out "$out/regression"
"$build/examples/hyperparameters" --quick --out "$out/hyperparameters"

for fn in bowl rosenbrock beale saddle plateau; do
  cp "$out/trajectories/trajectory_$fn.svg" docs/images/
done
cp "$out/trajectories/trajectory_bowl_animated.svg" "$out/trajectories/trajectory_saddle_animated.svg" \
   "$out/showdown/showdown.svg" "$out/regression/regression.svg" "$out"/hyperparameters/sweep_*.svg docs/images/

xmllint --noout docs/images/*.svg
echo
echo "make_docs_images.sh: docs/images/ now holds (bytes):"
wc -c docs/images/*.svg
