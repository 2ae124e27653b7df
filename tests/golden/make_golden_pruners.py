#!/usr/bin/python3
"""Generate tests/golden/tune/pruners.txt: Optuna 3.1's pruning decisions on given curves.

Each case builds an Optuna study with one pruner and runs its trials one after another: a trial
reports its curve step by step (trial.report) and asks after each report whether to stop
(trial.should_prune); the answer is written down. In the cases marked `obey` a trial stops at its
first "prune" (and is told pruned), as a real objective would, unless it is to be left running;
otherwise it reports its whole curve and ends as the case says (complete, failed, or left
running: still reporting, as a trial of another worker would be). The C++ test
(tests/tune_pruners_test.cpp) replays the same curves with descent's pruners and checks every
decision.

The trials go through ask/report/should_prune rather than create_trial/add_trial because Optuna's
successive halving keeps what it knows in the trials' system attributes ("completed_rung_k"),
which it writes only while it is asked: trials made up with create_trial would have none.

HyperbandPruner puts each trial into a bracket by a CRC-32 of the study name and the trial
number; descent uses its own rule (a hash of the number alone). So for Hyperband the file keeps
Optuna's bracket of each trial, and the C++ test replays each bracket's trials alone through a
SuccessiveHalvingPruner with min_early_stopping_rate = the bracket, which is what Optuna's
Hyperband does inside. The `brackets` lines give Optuna's number of brackets and each bracket's
trial budget for a few (min_resource, max_resource, reduction_factor), next to the exact
floor(log_eta(max / min)) + 1 (Optuna takes the logarithm in floating point, which comes out
one short when max / min is some exact powers of eta: 3^5 = 243, 10^3 = 1000).

Run from the repository root with the Debian interpreter that has Optuna 3.1 (python3-optuna):

    /usr/bin/python3 tests/golden/make_golden_pruners.py

The output is deterministic (curves from seeded generators); the script prints one line per case.
"""

import math
import os
import random
import warnings

import optuna
from optuna.pruners import (HyperbandPruner, MedianPruner, PatientPruner,
                            SuccessiveHalvingPruner, ThresholdPruner)
from optuna.trial import TrialState

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tune", "pruners.txt")
NAN = float("nan")
INF = float("inf")


def make_pruner(kind, options):
    """The Optuna pruner for the options as the file writes them (descent's names)."""
    if kind == "threshold":
        return ThresholdPruner(lower=options.get("lower"), upper=options.get("upper"),
                               n_warmup_steps=options.get("n_warmup_steps", 0),
                               interval_steps=options.get("interval_steps", 1))
    if kind == "median":
        return MedianPruner(n_startup_trials=options.get("n_startup_trials", 5),
                            n_warmup_steps=options.get("n_warmup_steps", 0),
                            interval_steps=options.get("interval_steps", 1))
    if kind == "patient":
        wrapped = None
        if options["wrapped"] == "median":
            wrapped = make_pruner("median", options)
        return PatientPruner(wrapped, patience=options["patience"],
                             min_delta=options.get("min_delta", 0.0))
    if kind == "successive_halving":
        return SuccessiveHalvingPruner(
            min_resource=options["min_resource"], reduction_factor=options["reduction_factor"],
            min_early_stopping_rate=options.get("min_early_stopping_rate", 0),
            bootstrap_count=options.get("bootstrap_count", 0))
    if kind == "hyperband":
        return HyperbandPruner(min_resource=options["min_resource"],
                               max_resource=options["max_resource"],
                               reduction_factor=options["reduction_factor"],
                               bootstrap_count=options.get("bootstrap_count", 0))
    raise ValueError(kind)


def text(x):
    """A number as the C++ side reads it back exactly (repr: shortest round trip, nan, inf)."""
    if isinstance(x, float):
        return repr(x)
    return str(x)


def run_case(name, kind, options, direction, trials, obey):
    """trials: list of (curve, end); curve a list of (step, value), end complete/failed/running.

    Returns the case's lines."""
    pruner = make_pruner(kind, options)
    study = optuna.create_study(study_name="golden", direction=direction, pruner=pruner)
    lines = ["case " + name,
             "pruner " + kind + "".join(" %s=%s" % (k, text(v)) for k, v in options.items()),
             "direction " + direction, "trials %d" % len(trials)]
    for curve, end in trials:
        trial = study.ask()
        rows = []
        state = end
        for step, value in curve:
            trial.report(value, step)
            decision = trial.should_prune()
            rows.append("%d %s %d" % (step, text(value), int(decision)))
            if decision and obey and end != "running":
                state = "pruned"
                break
        if state == "complete":
            study.tell(trial, curve[len(rows) - 1][1] if not math.isnan(curve[len(rows) - 1][1])
                       else 0.0)
        elif state == "pruned":
            study.tell(trial, state=TrialState.PRUNED)
        elif state == "failed":
            study.tell(trial, state=TrialState.FAIL)
        group = 0
        if kind == "hyperband":
            group = pruner._get_bracket_id(study, study.trials[trial.number])
        lines.append("trial %d %s %d %d" % (trial.number, state, group, len(rows)))
        lines.extend(rows)
    lines.append("end")
    states = [t.state for t in study.trials]
    print("%-28s %3d trials, %3d pruned decisions, %2d ended pruned" % (
        name, len(trials), sum(l.endswith(" 1") for l in lines if l[0].isdigit()),
        states.count(TrialState.PRUNED)))
    return lines


def learning_curve(rng, steps, noise=0.02):
    """A loss that falls from about 1 towards the model's quality q, at its own speed."""
    q = rng.uniform(0.1, 0.9)
    speed = rng.uniform(0.2, 3.0)
    return [(s, q + (1.2 - q) / (1 + speed * s) + rng.gauss(0, noise)) for s in steps]


def cases():
    out = []
    # ---- ThresholdPruner -----------------------------------------------------------------------
    out.append(run_case("threshold_upper", "threshold", {"upper": 1.0}, "minimize", [
        ([(0, 0.5), (1, 0.9), (2, 1.0), (3, 1.0000001), (4, 0.7), (5, NAN), (6, INF), (7, 0.2)],
         "complete"),
        ([(0, 2.0), (1, 1.5), (2, 0.99), (3, -INF)], "failed"),
    ], obey=False))
    out.append(run_case("threshold_lower_warmup_interval", "threshold",
                        {"lower": 0.25, "n_warmup_steps": 2, "interval_steps": 3}, "maximize", [
        ([(s, 0.1) for s in range(0, 12)], "complete"),
        # Skips steps: each window [2, 5), [5, 8), [8, 11), [11, 14) is decided at its first report.
        ([(0, 0.0), (1, 0.0), (3, 0.1), (4, 0.1), (6, 0.3), (7, 0.1), (10, NAN), (11, 0.2),
          (13, 0.2), (20, 0.3), (21, 0.1), (23, 0.1)], "complete"),
    ], obey=False))
    out.append(run_case("threshold_both_bounds", "threshold", {"lower": -1.0, "upper": 1.0},
                        "minimize", [
        ([(1, -1.0), (2, 1.0), (3, -1.5), (4, 0.0), (5, 1.5), (7, -INF), (9, INF), (10, 0.5)],
         "running"),
    ], obey=False))
    # ---- MedianPruner (descent's decides at the first report of each interval, as Optuna) -----
    rng = random.Random(11)
    trials = [(learning_curve(rng, range(1, 9)), "complete") for _ in range(4)]
    trials.append(([(1, NAN), (2, NAN), (3, NAN)], "failed"))     # only NaN: pruned
    trials.append(([(s, v) for s, v in learning_curve(rng, range(1, 12))], "complete"))
    trials.append(([(1, 0.9), (2, 0.8), (4, 0.9), (5, 0.95), (7, 0.99), (8, 1.2), (10, 0.5)],
                   "running"))
    trials.append(([(s, NAN) for s in (13, 14, 15)], "running"))  # NaN where no one reported
    trials += [(learning_curve(rng, range(1, 9)), "complete") for _ in range(4)]
    out.append(run_case("median_warmup_interval", "median",
                        {"n_startup_trials": 2, "n_warmup_steps": 1, "interval_steps": 2},
                        "minimize", trials, obey=False))
    # ---- PatientPruner ----------------------------------------------------------------------------
    out.append(run_case("patient_alone_minimize", "patient",
                        {"wrapped": "none", "patience": 2, "min_delta": 0.0}, "minimize", [
        # better, flat (not stalled), worse
        ([(0, 1.0), (1, 0.9), (2, 0.8), (3, 0.8), (4, 0.8), (5, 0.85), (6, 0.9), (7, 0.7),
          (8, 0.75), (9, 0.76), (10, 0.71)], "complete"),
        ([(0, NAN), (1, NAN), (2, 0.5), (3, 0.6), (4, 0.7), (5, 0.8), (6, NAN), (7, NAN),
          (8, NAN)], "complete"),
        ([(0, 0.3), (2, 0.5), (5, 0.4), (9, 0.35), (14, 0.2)], "running"),
    ], obey=False))
    out.append(run_case("patient_alone_maximize_delta", "patient",
                        {"wrapped": "none", "patience": 1, "min_delta": 0.05}, "maximize", [
        ([(0, 0.5), (1, 0.6), (2, 0.56), (3, 0.54), (4, 0.55), (5, 0.5), (6, 0.49), (7, 0.7),
          (8, 0.66), (9, 0.6)], "complete"),
        ([(0, 0.5), (1, 0.5), (2, 0.5)], "complete"),
    ], obey=False))
    out.append(run_case("patient_zero_patience", "patient",
                        {"wrapped": "none", "patience": 0, "min_delta": 0.0}, "minimize", [
        ([(0, 1.0), (1, 1.1), (2, 0.9), (3, 0.9), (4, 0.95), (5, NAN), (6, 0.8)], "complete"),
    ], obey=False))
    rng = random.Random(12)
    trials = []
    for i in range(12):
        curve = learning_curve(rng, range(1, 16), noise=0.05)
        if i % 3 == 2:  # a curve that turns up: stalls, and the median may agree
            curve = [(s, v + 0.04 * max(0, s - 6)) for s, v in curve]
        trials.append((curve, "complete"))
    out.append(run_case("patient_median_minimize", "patient",
                        {"wrapped": "median", "patience": 2, "min_delta": 0.01,
                         "n_startup_trials": 3, "n_warmup_steps": 2, "interval_steps": 1},
                        "minimize", trials, obey=True))
    rng = random.Random(13)
    trials = [([(s, 1 - v) for s, v in learning_curve(rng, range(1, 12), noise=0.05)],
               "complete") for _ in range(10)]
    out.append(run_case("patient_median_maximize", "patient",
                        {"wrapped": "median", "patience": 0, "min_delta": 0.0,
                         "n_startup_trials": 2, "n_warmup_steps": 0, "interval_steps": 1},
                        "maximize", trials, obey=False))
    # ---- SuccessiveHalvingPruner alone (min_early_stopping_rate, bootstrap_count) -----------------
    rng = random.Random(14)
    trials = [(learning_curve(rng, range(1, 19)), "complete") for _ in range(16)]
    out.append(run_case("successive_halving_rate_bootstrap", "successive_halving",
                        {"min_resource": 1, "reduction_factor": 3,
                         "min_early_stopping_rate": 1, "bootstrap_count": 2},
                        "minimize", trials, obey=True))
    # ---- HyperbandPruner: each bracket's successive halving ---------------------------------------
    rng = random.Random(15)
    trials = [(learning_curve(rng, range(1, 28)), "complete") for _ in range(40)]
    out.append(run_case("hyperband_minimize", "hyperband",
                        {"min_resource": 1, "max_resource": 27, "reduction_factor": 3},
                        "minimize", trials, obey=True))
    rng = random.Random(16)
    trials = []
    for i in range(30):
        steps = [1, 2, 3, 5, 7, 9, 12, 15, 17, 20]
        curve = [(s, 1 - v) for s, v in learning_curve(rng, steps)]
        if i in (7, 8):  # NaN at step 2: a rung of bracket 0 (trial 8), no rung of 2 (7)
            curve[1] = (curve[1][0], NAN)
        trials.append((curve[:4], "running") if i % 6 == 5 else (curve, "complete"))
    out.append(run_case("hyperband_maximize_sparse_bootstrap", "hyperband",
                        {"min_resource": 2, "max_resource": 20, "reduction_factor": 2,
                         "bootstrap_count": 1},
                        "maximize", trials, obey=True))
    return out


def exact_n_brackets(min_resource, max_resource, eta):
    n, rung = 1, min_resource
    while rung * eta <= max_resource:
        rung *= eta
        n += 1
    return n


def brackets():
    """Optuna's number of brackets and per-bracket trial budgets for some ranges."""
    lines = []
    for min_resource, max_resource, eta in [(1, 27, 3), (1, 100, 3), (1, 81, 3), (2, 20, 2),
                                            (1, 9, 3), (3, 100, 4), (1, 1, 3), (1, 50, 10),
                                            (1, 243, 3), (1, 1000, 10)]:
        pruner = HyperbandPruner(min_resource=min_resource, max_resource=max_resource,
                                 reduction_factor=eta)
        study = optuna.create_study(pruner=pruner)
        pruner._try_initialization(study)
        n = pruner._n_brackets
        lines.append("brackets %d %d %d %d %d %s" % (
            min_resource, max_resource, eta, n, exact_n_brackets(min_resource, max_resource, eta),
            " ".join(str(b) for b in pruner._trial_allocation_budgets)))
    return lines


def main():
    warnings.simplefilter("ignore")  # PatientPruner is experimental in 3.1
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    lines = ["# descent golden pruner decisions, generated by tests/golden/make_golden_pruners.py "
             "(Optuna %s); do not edit" % optuna.__version__]
    for case in cases():
        lines.extend(case)
    lines.extend(brackets())
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
