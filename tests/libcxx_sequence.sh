#!/bin/sh
# Seeded results repeat across standard libraries: builds tests/portable_sequence.cpp with clang
# and libc++ and compares its output, line for line, with the same program built by this build's
# compiler and standard library (REFERENCE). Status 77 (skipped) where clang or libc++ is missing
# (Debian clang-14, libc++-dev, libc++abi-dev; scripts/test.sh installs them).
# Usage: libcxx_sequence.sh CLANG SOURCE INCLUDE_DIR EIGEN_DIR REFERENCE WORK_DIR
set -eu
cxx=$1 source=$2 include=$3 eigen=$4 reference=$5 work=$6
if ! command -v "$cxx" >/dev/null 2>&1 ||
   ! printf '#include <vector>\nint main() {}\n' |
     "$cxx" -std=c++20 -stdlib=libc++ -x c++ - -o /dev/null >/dev/null 2>&1; then
  echo "no $cxx with libc++ (sudo apt-get install clang-14 libc++-dev libc++abi-dev): skipping"
  exit 77
fi
mkdir -p "$work"
"$cxx" -std=c++20 -stdlib=libc++ -O1 -I "$include" -isystem "$eigen" "$source" \
  -o "$work/portable_sequence_libcxx" -pthread
"$reference" >"$work/reference.txt"
"$work/portable_sequence_libcxx" >"$work/libcxx.txt"
# The program prints 40 trials and 4 shuffles; fewer lines would make the comparison hollow.
[ "$(wc -l <"$work/reference.txt")" -eq 44 ] ||
  { echo "error: the reference printed $(wc -l <"$work/reference.txt") lines, not 44" >&2; exit 1; }
if ! diff "$work/reference.txt" "$work/libcxx.txt"; then
  echo "error: libc++ gives other seeded results than $(basename "$reference")'s library (diff above)" >&2
  exit 1
fi
echo "libc++ and the reference agree on $(wc -l <"$work/reference.txt") lines"
