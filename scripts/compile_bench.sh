#!/bin/sh
# How long a program that uses descent takes to compile, against the same program written with
# Eigen alone (its twin in bench/compile/). Three programs: the README's Adam example (typed, and
# again with the optimizer made by name), the README's network example and
# examples/fashion_mnist.cpp. Each is compiled at -O2, compile only, header-only and in compiled
# mode (-DDESCENT_COMPILED_LIB, what linking descent::compiled defines: the heavy instantiations
# become `extern template`). The time is wall time, the best of REPEATS (3) runs, so a burst of
# load elsewhere costs one run, not the figure. To show that compiled mode links, src/*.cpp are
# built once into a static library and every compiled-mode object is linked against it.
#
# Goals (issue 18): header-only, the typed Adam example at most 1.1x its twin, by name at most
# 1.5x, the network example at most 2x; in compiled mode every program within 1.2x. Also prints
# the preprocessed size of the umbrella headers, with <Eigen/Core> for scale.
#
#   scripts/compile_bench.sh            CXX=clang++ REPEATS=5 scripts/compile_bench.sh
set -eu
cd "$(dirname "$0")/.."

cxx=${CXX:-g++}
repeats=${REPEATS:-3}
flags="-O2 -std=c++20 -I include -isystem /usr/include/eigen3"
tmp=$(mktemp -d /tmp/compile-bench-XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

# seconds SOURCE OBJECT [FLAGS...]: the best wall time of $repeats compiles of SOURCE to OBJECT.
seconds() {
  src=$1 obj=$2
  shift 2
  best=
  i=0
  while [ "$i" -lt "$repeats" ]; do
    start=$(date +%s.%N)
    # shellcheck disable=SC2086  # $flags is a list of words
    $cxx $flags "$@" -c "$src" -o "$obj"
    end=$(date +%s.%N)
    best=$(awk -v a="$start" -v b="$end" -v best="$best" \
      'BEGIN { t = b - a; if (best != "" && best + 0 < t) t = best; printf "%.2f", t }')
    i=$((i + 1))
  done
  echo "$best"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }

# verdict SECONDS TWIN GOAL: "<=GOALx ok" when SECONDS is within GOAL times TWIN, else MISSED.
verdict() {
  if [ "$3" = - ]; then echo -; return; fi
  awk -v a="$1" -v b="$2" -v g="$3" 'BEGIN { printf "<=%sx %s", g, (a <= g * b ? "ok" : "MISSED") }'
}

echo "compiler: $($cxx --version | head -n 1); $repeats run(s) each, best kept" >&2

echo "building the compiled-mode library from src/*.cpp ..." >&2
start=$(date +%s.%N)
for src in src/*.cpp; do
  # shellcheck disable=SC2086
  $cxx $flags -DDESCENT_COMPILED_LIB -c "$src" -o "$tmp/lib_$(basename "$src" .cpp).o"
done
ar rcs "$tmp/libdescent_compiled.a" "$tmp"/lib_*.o
library_seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

echo "timing the Eigen-only twins ..." >&2
twin_adam=$(seconds bench/compile/adam_eigen.cpp "$tmp/twin.o")
twin_network=$(seconds bench/compile/network_eigen.cpp "$tmp/twin.o")
twin_fashion=$(seconds bench/compile/fashion_mnist_eigen.cpp "$tmp/twin.o")

rows=
# measure NAME SOURCE TWIN_SECONDS HEADER_GOAL COMPILED_GOAL [FLAGS...]: one row of the table.
measure() {
  name=$1 src=$2 twin=$3 header_goal=$4 compiled_goal=$5
  shift 5
  echo "timing $name ..." >&2
  header=$(seconds "$src" "$tmp/$name.o" "$@")
  compiled=$(seconds "$src" "$tmp/$name.o" -DDESCENT_COMPILED_LIB "$@")
  # The extern templates leave undefined symbols that only the library provides.
  $cxx "$tmp/$name.o" "$tmp/libdescent_compiled.a" -lz -lpthread -o "$tmp/$name"
  rows="$rows$(printf '%-14s %7s  %7s (%5s)  %7s (%5s)  %-13s  %s' "$name" "$twin" \
    "$header" "$(ratio "$header" "$twin")" "$compiled" "$(ratio "$compiled" "$twin")" \
    "$(verdict "$header" "$twin" "$header_goal")" "$(verdict "$compiled" "$twin" "$compiled_goal")")
"
}
measure adam bench/compile/adam.cpp "$twin_adam" 1.1 1.2
measure adam_by_name bench/compile/adam_by_name.cpp "$twin_adam" 1.5 1.2
measure network bench/compile/network.cpp "$twin_network" 2 1.2
# The issue sets no header-only goal for the full example.
measure fashion_mnist examples/fashion_mnist.cpp "$twin_fashion" - 1.2 -I examples

# lines HEADER: the preprocessed line count of a file that includes only HEADER.
lines() {
  # shellcheck disable=SC2086
  printf '#include <%s>\n' "$1" | $cxx $flags -x c++ -E - | wc -l | tr -d ' '
}

echo
printf '%-14s %7s  %-17s  %-17s  %-13s  %s\n' program "twin s" "header-only s" "compiled s" \
  "header goal" "compiled goal"
printf '%s' "$rows"
echo "(twins: bench/compile/*_eigen.cpp; compiled mode links against a static library of" \
  "src/*.cpp, built once in ${library_seconds} s)"
echo
echo "preprocessed lines (-E, line markers included):"
for header in descent/optim.hpp descent/nn.hpp descent/descent.hpp Eigen/Core; do
  printf '  %-22s %8s\n' "<$header>" "$(lines "$header")"
done
