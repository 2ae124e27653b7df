#!/bin/sh
# The tuning benchmark (issue 21): descent's default sampler against Optuna's default TPESampler
# (Debian python3-optuna, run by /usr/bin/python3) on 12 standard test functions and 2 mixed
# spaces, TRIALS trials and SEEDS seeds each; prints median and mean regret side by side, then the
# time per trial of both at 100 and 1,000 trials. Both sides' functions are first evaluated at the
# same points and must agree. Optuna takes long (minutes per seed at 1,000 trials), so its results
# are cached in CACHE (outside the repository) and reused; descent always reruns.
#
#   scripts/tune_bench.sh                       # 100 trials x 30 seeds, timing at 100 and 1000
#   SEEDS=5 TIMING=100 scripts/tune_bench.sh    # quicker
#   SAMPLER=tpe:multivariate=0 scripts/tune_bench.sh   # another descent sampler (tune_bench.cpp)
#   WORKERS=4 SEEDS=100 scripts/tune_bench.sh   # descent alone: serial against 4 parallel workers
#                                               # (4threads: Study::optimize on 4 threads)
#   JOBS=1 ...                                  # build with one job (default: all cores)
set -eu
cd "$(dirname "$0")/.."
. scripts/common.sh
require_packages $BUILD_PACKAGES python3-optuna

trials=${TRIALS:-100}
seeds=${SEEDS:-30}
timing=${TIMING:-100 1000}
sampler=${SAMPLER:-default}
workers=${WORKERS:-}
jobs=${JOBS:-$(nproc)}
cache=${CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/descent-tune-bench}
build=${BUILD_DIR:-build-tune-bench}
python=/usr/bin/python3  # Debian's, which has optuna; the first python3 on PATH may not
mkdir -p "$cache"

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DDESCENT_BUILD_BENCH=ON \
  -DDESCENT_BUILD_TESTS=OFF -DDESCENT_BUILD_EXAMPLES=OFF -DDESCENT_INSTALL=OFF >/dev/null
cmake --build "$build" --target tune_bench -j"$jobs" >/dev/null 2>&1 ||
  { cmake --build "$build" --target tune_bench; exit 1; }
bench="$build/bench/tune_bench"

if [ -n "$workers" ]; then
  # Same seeds, same trial count: the regret of a serial study against the same study run by
  # WORKERS parallel workers (tune_bench.cpp says how they are simulated or run).
  echo "descent ($sampler): $trials trials x $seeds seeds, serial and $workers workers ..."
  "$bench" run "$trials" "$seeds" "$sampler" 1 >"$build/tune_serial.csv"
  "$bench" run "$trials" "$seeds" "$sampler" "$workers" >"$build/tune_workers.csv"
  echo
  echo "== regret, serial against $workers workers, $trials trials, median and mean over seeds"
  $python bench/tune_table.py --workers "${workers%threads}" "$build/tune_serial.csv" \
    "$build/tune_workers.csv" "$workers workers"
  exit 0
fi

"$bench" check >"$build/tune_check_descent.txt"
$python bench/tune_optuna.py check >"$build/tune_check_optuna.txt"
$python bench/tune_table.py --agree "$build/tune_check_descent.txt" \
  "$build/tune_check_optuna.txt" ||
  { echo "error: the C++ and Python test functions disagree (above); no table" >&2; exit 1; }

echo "Optuna: $trials trials x $seeds seeds (cached in $cache/optuna-${trials}x.csv) ..."
nice -n 10 $python bench/tune_optuna.py run "$cache/optuna-${trials}x.csv" "$trials" "$seeds"
echo "descent ($sampler): $trials trials x $seeds seeds ..."
"$bench" run "$trials" "$seeds" "$sampler" >"$build/tune_descent.csv"

echo
echo "== regret (best found minus the known optimum), $trials trials, median and mean over seeds"
$python bench/tune_table.py "$build/tune_descent.csv" "$cache/optuna-${trials}x.csv"

echo
echo "== seconds per trial (whole study, objective included; one study, seed 0)"
echo "| trials | problem | descent | Optuna | Optuna / descent |"
echo "|---|---|---|---|---|"
for n in $timing; do
  for problem in hartmann6 mlp; do
    ours=$("$bench" time "$n" "$problem" "$sampler")
    saved="$cache/optuna-time-$n-$problem.txt"
    [ -s "$saved" ] || nice -n 10 $python bench/tune_optuna.py time "$n" "$problem" >"$saved"
    theirs=$(cat "$saved")
    echo "$n $problem $ours $theirs" |
      awk '{ printf "| %s | %s | %.3g | %.3g | %.0fx |\n", $1, $2, $3, $4, $4 / $3 }'
  done
done
