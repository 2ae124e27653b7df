#!/bin/sh
# Checks the headers' format (.clang-format), builds everything in Release into build/, the API
# reference (it fails on an undocumented public name), and runs every test through ctest. Every
# build uses the compiled mode (descent::compiled: the heavy instantiations built once, not in
# every program); the README's examples are also built header-only, as users build them. The
# test programs are compiled at -O1 (they check numbers, which IEEE arithmetic without fast-math
# makes the same at every level, and build in two thirds of the time); the library, examples,
# benchmarks and the README/docs snippets at Release's -O3, as users build them. Then
# runs the whole suite again, examples included, under AddressSanitizer + UndefinedBehaviorSanitizer
# (one combined build in build-asan/), and the thread tests under ThreadSanitizer (build-tsan/).
# Sanitizer builds are compiled by clang (a tenth of g++'s time and memory for a sanitized build
# of these Eigen-heavy tests) with line tables and Eigen's assertions on: the examples at -O1,
# since they train networks, and the test programs at -O0, since unoptimized they still run in
# seconds and build in half the time. The first report aborts the test, and any failure fails
# this script.
#   SANITIZERS=0 scripts/test.sh      # the Release build and tests only
#   SANITIZERS=only scripts/test.sh   # the sanitizer builds only (ASAN_DIR, TSAN_DIR: their dirs)
#   SANITIZER_CXX=g++ ...             # another compiler for them (in fresh build dirs)
set -eu
cd "$(dirname "$0")/.."
. scripts/common.sh
require_packages $BUILD_PACKAGES libxml2-utils postgresql doxygen clang-format-14 clang-14 \
  libc++-dev libc++abi-dev  # the last three: the libc++ comparison test
# The house style (.clang-format): every public header as clang-format-14 writes it. A second.
find include -name '*.hpp' | sort | xargs clang-format-14 --dry-run --Werror ||
  { echo "error: the headers above are not formatted (clang-format-14 -i FILE)" >&2; exit 1; }
# The data and the reader the example and export tests use; they skip (status 77) only where these
# cannot be installed.
(require_packages dataset-fashion-mnist python3-numpy) ||
  echo "test.sh: no dataset-fashion-mnist or python3-numpy: their tests will be skipped"
sanitizer_cxx=${SANITIZER_CXX:-clang++-14}
line_tables=-g1  # enough debug information for the reports' file:line
[ "${SANITIZERS:-1}" = 0 ] || case $sanitizer_cxx in
  clang*) require_packages clang-14 libclang-rt-14-dev; line_tables=-gline-tables-only ;;
  *) require_packages libasan8 libubsan1 libtsan2 ;;
esac

sanitizers=${SANITIZERS:-1}
asan_dir=${ASAN_DIR:-build-asan}
tsan_dir=${TSAN_DIR:-build-tsan}

start=$(date +%s)
if [ "$sanitizers" != only ]; then
  configure -DDESCENT_BUILD_TESTS=ON -DDESCENT_BUILD_EXAMPLES=ON -DDESCENT_BUILD_BENCH=ON \
            -DDESCENT_COMPILED=ON -DDESCENT_TEST_COMPILE_OPTIONS=-O1
  cmake --build build -j"$(nproc)"
  cmake --build build --target docs  # fails on any undocumented public name
  ctest --test-dir build --output-on-failure -j"$(nproc)"
  echo "test.sh: all tests passed in $(( $(date +%s) - start )) s"
fi
[ "$sanitizers" = 0 ] && exit 0

# Configures build dir $1 for sanitizer flags $2 (Debug type, so Eigen's assertions stay on).
configure_sanitized() {
  cmake -S . -B "$1" -DCMAKE_CXX_COMPILER="$sanitizer_cxx" \
        -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 $line_tables" \
        -DCMAKE_CXX_FLAGS="$2 -fno-omit-frame-pointer" -DDESCENT_BUILD_TESTS=ON \
        -DDESCENT_TEST_COMPILE_OPTIONS=-O0 -DDESCENT_BUILD_EXAMPLES=ON -DDESCENT_BUILD_BENCH=OFF \
        -DDESCENT_COMPILED=ON \
        -DDESCENT_INSTALL=OFF -DDESCENT_SKIP_PACKAGING_TESTS=ON >"$1.log" 2>&1 ||
    { cat "$1.log" >&2; echo "error: cmake configure of $1 failed (log above)" >&2; exit 1; }
  rm -f "$1.log"
}

# ASan + UBSan in one build: -fno-sanitize-recover=all makes every UBSan report fatal too.
# Everything but the tests that only compile or install. allocator_may_return_null: a request
# larger than ASan's limit fails as malloc does (descent turns that into an error naming the
# size), rather than aborting the test that checks it.
step=$(date +%s)
configure_sanitized "$asan_dir" "-fsanitize=address,undefined -fno-sanitize-recover=all"
cmake --build "$asan_dir" -j"$(nproc)"
built=$(date +%s)
ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1:strict_string_checks=1:allocator_may_return_null=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest --test-dir "$asan_dir" --output-on-failure -j"$(nproc)" \
        -E 'install_and_build_snippets|headers_compile_alone|same_seeded_results_with_libcxx'
echo "test.sh: ASan+UBSan: built in $(( built - step )) s, tests passed in $(( $(date +%s) - built )) s"

# TSan: the tests that run threads (several States stepped at once, the network's thread team).
step=$(date +%s)
configure_sanitized "$tsan_dir" "-fsanitize=thread"
cmake --build "$tsan_dir" --target thread_tests -j"$(nproc)"
built=$(date +%s)
TSAN_OPTIONS=halt_on_error=1:abort_on_error=1 \
  ctest --test-dir "$tsan_dir" --output-on-failure -j"$(nproc)" -R '^thread_tests:'
echo "test.sh: TSan: built in $(( built - step )) s, thread tests passed in $(( $(date +%s) - built )) s"
echo "test.sh: everything passed in $(( $(date +%s) - start )) s"
