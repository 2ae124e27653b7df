"""Optuna's side of the tuning benchmark: its default TPESampler on bench/tune_functions.py.

Run by /usr/bin/python3 (Debian's python3-optuna), from scripts/tune_bench.sh:
  tune_optuna.py check                    f at the check points and the argmin, one line each
  tune_optuna.py run OUT TRIALS SEEDS     appends "problem,seed,regret,seconds" lines to OUT,
                                          skipping studies OUT already holds (a cache: rerun freely)
  tune_optuna.py time TRIALS PROBLEM      seconds per trial of one study of TRIALS trials
"""
import os
import sys
import time

import optuna

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tune_functions import PROBLEMS, check_points  # noqa: E402


def suggest(trial, p):
    if p["kind"] == "categorical":
        return trial.suggest_categorical(p["name"], p["choices"])
    if p["kind"] == "int":
        return trial.suggest_int(p["name"], p["low"], p["high"], step=p["step"], log=p["log"])
    return trial.suggest_float(p["name"], p["low"], p["high"], log=p["log"], step=p["step"])


def study_of(name, seed, trials):
    """Best value found and wall seconds of one study with Optuna's default sampler."""
    params, f, _ = PROBLEMS[name]
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    start = time.perf_counter()
    study.optimize(lambda t: f([suggest(t, p) for p in params]), n_trials=trials)
    return study.best_value, time.perf_counter() - start


def main():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    mode = sys.argv[1]
    if mode == "check":
        for name, (params, f, argmin) in PROBLEMS.items():
            for point in check_points(params) + [argmin]:
                print("%s %.17g" % (name, f(point)))
    elif mode == "run":
        out, trials, seeds = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        done = set()
        if os.path.exists(out):
            with open(out) as lines:
                done = {tuple(line.split(",")[:2]) for line in lines if line.strip()}
        for seed in range(seeds):
            for name, (params, f, argmin) in PROBLEMS.items():
                if (name, str(seed)) in done:
                    continue
                best, seconds = study_of(name, seed, trials)
                with open(out, "a") as lines:
                    lines.write("%s,%d,%.17g,%.6f\n" % (name, seed, best - f(argmin), seconds))
    elif mode == "time":
        trials, name = int(sys.argv[2]), sys.argv[3]
        print("%.9f" % (study_of(name, 0, trials)[1] / trials))
    else:
        sys.exit("tune_optuna.py: unknown mode %r (check, run or time)" % mode)


if __name__ == "__main__":
    main()
