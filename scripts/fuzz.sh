#!/bin/sh
# Fuzzes every reader of untrusted input with libFuzzer under AddressSanitizer and UBSan:
#   idx     descent::data::read_idx, raw and gzipped IDX files (gzipped, cut, split in members
#           and padded in the target too)
#   csv     descent::data::parse_csv, with every kind of option, and read_csv on gzipped text
#   flags   the examples' flag parsing (examples/common.hpp), the parsers it hands values to, and
#           the Trainer and network built from them
#   storage descent::tune's SQLite storage, with every stored value overwritten through SQL,
#           then sampled with TPE and random search
#   checkpoint  descent::io::read_checkpoint and load_checkpoint into a network, an optimizer, or
#           a trainer that then resumes fit()
# Builds them with clang into build-fuzz/, seeds each with small valid inputs written below, and
# runs each for FUZZ_SECONDS seconds (default 60). A crash, a sanitizer report, a leak, a timeout
# or an out-of-memory fails the script; the input that caused it is kept in build-fuzz/findings/.
# The corpus grows in build-fuzz/corpus/<target> from run to run. FUZZ_DIR sets another folder
# than build-fuzz/ (two fuzzing runs at once each need their own).
#
#   scripts/fuzz.sh                      # every target, 60 s each
#   FUZZ_SECONDS=10 scripts/fuzz.sh csv  # one target, 10 s
#   build-fuzz/fuzz/fuzz_csv build-fuzz/findings/csv-crash-...   # replay a finding
set -eu
cd "$(dirname "$0")/.."
. scripts/common.sh
require_packages $BUILD_PACKAGES clang-14 libclang-rt-14-dev gzip

seconds=${FUZZ_SECONDS:-60}
targets=${*:-$(cd fuzz && ls *_fuzz.cpp | sed 's/_fuzz.cpp$//' | tr '\n' ' ')}
dir=${FUZZ_DIR:-build-fuzz}
for target in $targets; do
  [ -f "fuzz/${target}_fuzz.cpp" ] || { echo "error: no fuzz target '$target' (fuzz/*_fuzz.cpp)" >&2; exit 2; }
done

cmake -S . -B "$dir" -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=Debug \
      -DDESCENT_BUILD_FUZZ=ON -DDESCENT_BUILD_TESTS=OFF -DDESCENT_BUILD_EXAMPLES=OFF \
      -DDESCENT_BUILD_BENCH=OFF -DDESCENT_INSTALL=OFF >"$dir.log" 2>&1 ||
  { cat "$dir.log" >&2; echo "error: cmake configure of $dir failed (log above)" >&2; exit 1; }
rm -f "$dir.log"
for target in $targets; do
  cmake --build "$dir" --target "fuzz_$target" -j"$(nproc)"
done

# ---- seeds: one small valid input of each kind -------------------------------------------------
seeds=$dir/seeds
rm -rf "$seeds"
mkdir -p "$seeds/idx" "$seeds/csv" "$seeds/flags" "$dir/findings"
# IDX: 00 00 <type> <ndims>, big-endian uint32 sizes, big-endian data. The fuzzed input is a mode
# byte, then the bytes (fuzz/idx_fuzz.cpp): each file goes in as it is (mode 0), and at zlib level
# 6 gzipped in the target (037), gzipped and cut (040, behind a byte that says where), split into
# two gzip members (041) and gzipped with raw bytes after it (042, split by a byte too).
idx_seed() {  # name, the file's bytes as a printf format
  printf "\\000$2" >"$seeds/idx/$1"
  printf "\\037$2" >"$seeds/idx/$1-gz"
  printf "\\040\\300$2" >"$seeds/idx/$1-cut"
  printf "\\041\\006$2" >"$seeds/idx/$1-members"
  printf "\\042\\014$2" >"$seeds/idx/$1-appended"
}
idx_seed ubyte_2x2x2 '\000\000\010\003\000\000\000\002\000\000\000\002\000\000\000\002\001\002\003\004\005\006\007\377'
idx_seed sbyte_3 '\000\000\011\001\000\000\000\003\377\000\177'
idx_seed int16_1x2 '\000\000\013\002\000\000\000\001\000\000\000\002\200\000\177\377'
idx_seed int32_1 '\000\000\014\001\000\000\000\001\200\000\000\001'
idx_seed float32_2 '\000\000\015\001\000\000\000\002\077\200\000\000\377\200\000\000'
idx_seed float64_1 '\000\000\016\001\000\000\000\001\100\011\041\373\124\104\055\030'
idx_seed empty_0x5 '\000\000\010\002\000\000\000\000\000\000\000\005'
{ printf '\000'; printf '\000\000\010\001\000\000\000\003\001\002\003' | gzip -c; } >"$seeds/idx/real_gzip"
# CSV: the first byte picks the options (see fuzz/csv_fuzz.cpp), the rest is the file; with bit 3
# (010 octal) it goes through read_csv, gzipped in the target or, when it is gzip already, as it is.
printf '\005a,b,y\n1,2,0\n3.5,-4e3,1\n' >"$seeds/csv/header_label_y"
printf '\000 1, 2\n3 ,4\n\n5,6\n' >"$seeds/csv/no_header"
printf '\001"x ""q""",b\r\n"1", +2\r\n\r\n' >"$seeds/csv/quoted_crlf"
printf '\101a;b\n1e-3;-0\n' >"$seeds/csv/semicolons"
printf '\043x,label,z\n1,2,3\n' >"$seeds/csv/label_index_2"
printf '\001\357\273\277a\n1\n' >"$seeds/csv/bom"
printf '\001a,b\r1,2\r\r3,4\r' >"$seeds/csv/cr_only"
printf '\001a,b\n1,2\0003\n' >"$seeds/csv/nul"
printf '\015a,b,y\n1,2,0\n3.5,-4e3,1\n' >"$seeds/csv/header_label_y_gz"
printf '\010 1, 2\r3 ,4\n' >"$seeds/csv/no_header_gz"
{ printf '\011'; printf 'a,b\n1,2\n3,4\n' | gzip -c; } >"$seeds/csv/real_gzip"
# Flags: arguments separated by NUL bytes.
printf -- '--optimizer\000adamw\000--learning-rate\0000.01\000--options\000beta2=0.99,amsgrad=true' >"$seeds/flags/optimizer"
printf -- '--epochs\0003\000--batch-size\00064\000--hidden\000256,128\000--dropout\0000.2' >"$seeds/flags/network"
printf -- '--activation\000gelu\000--loss\000mse\000--init\000he_normal\000--seed\0007\000--json\000run.json' >"$seeds/flags/names"
printf -- '--optimizers\000sgd,adam\000--train-subset\0001000' >"$seeds/flags/showdown"
# Checkpoints and studies: each target writes its own seeds through descent when DESCENT_FUZZ_SEEDS
# names a folder (see fuzz/checkpoint_fuzz.cpp, fuzz/storage_fuzz.cpp).
for target in $targets; do
  case $target in
    checkpoint|storage) DESCENT_FUZZ_SEEDS="$seeds/$target" "$dir/fuzz/fuzz_$target" ;;
  esac
done

# ---- run ----------------------------------------------------------------------------------------
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
for target in $targets; do
  mkdir -p "$dir/corpus/$target"
  dict=""
  [ -f "fuzz/$target.dict" ] && dict="-dict=fuzz/$target.dict"
  log="$dir/fuzz_$target.log"
  echo "fuzz_$target: fuzzing for $seconds s (log: $log)"
  if ! "$dir/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="$dir/findings/$target-" $dict \
       "$dir/corpus/$target" "$seeds/$target" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "error: fuzz_$target found a problem (above); the input is in $dir/findings/" >&2
    exit 1
  fi
  grep -E '^Done|stat::number_of_executed_units|stat::peak_rss_mb' "$log" | tr '\n' ' '
  echo "corpus: $(ls "$dir/corpus/$target" | wc -l) inputs"
done
echo "fuzz.sh: no problem found in $targets ($seconds s each)"
