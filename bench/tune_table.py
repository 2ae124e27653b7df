"""The tuning benchmark's table: median and mean regret of descent and Optuna side by side.

  tune_table.py DESCENT.csv OPTUNA.csv     both "problem,seed,regret,seconds" per study
  tune_table.py --agree A.txt B.txt        checks two "problem value" lists agree (exit 1 if not)
  tune_table.py --workers N SERIAL.csv PARALLEL.csv [LABEL]
                                           serial against N workers: median regret of each, their
                                           ratio, and whether it is within the goal of 1.2x

Only seeds both files hold are compared. "better" names the side whose regrets are lower by a
two-sided Mann-Whitney U test at p < 0.05 (normal approximation with tie correction), "tie"
otherwise: at 30 seeds the medians of two equally good samplers often differ by 20%, so a bare
comparison of medians would call noise a win. The mean is printed too, as a sampler that fails
now and then shows there first.
"""
import collections
import math
import statistics
import sys


def agree(a_path, b_path):
    with open(a_path) as a, open(b_path) as b:
        a_lines, b_lines = a.read().split("\n"), b.read().split("\n")
    bad = 0
    for x, y in zip(a_lines, b_lines):
        if not x and not y:
            continue
        (na, va), (nb, vb) = x.split(), y.split()
        va, vb = float(va), float(vb)
        if na != nb or abs(va - vb) > 1e-9 * max(1.0, abs(va), abs(vb)):
            print("disagree: %s %r vs %s %r" % (na, va, nb, vb))
            bad += 1
    if len(a_lines) != len(b_lines):
        print("disagree: %d lines vs %d" % (len(a_lines), len(b_lines)))
        bad += 1
    return bad == 0


def mann_whitney_p(a, b):
    """Two-sided p-value of the Mann-Whitney U test that a and b come from one distribution."""
    pooled = sorted([(v, 0) for v in a] + [(v, 1) for v in b])
    ranks, i, tie_term = [0.0] * len(pooled), 0, 0.0
    while i < len(pooled):
        j = i
        while j + 1 < len(pooled) and pooled[j + 1][0] == pooled[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        t = j - i + 1
        tie_term += t ** 3 - t
        i = j + 1
    n1, n2 = len(a), len(b)
    u = sum(r for r, (_, side) in zip(ranks, pooled) if side == 0) - n1 * (n1 + 1) / 2
    n = n1 + n2
    var = n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1)))
    if var <= 0:
        return 1.0
    z = (u - n1 * n2 / 2) / math.sqrt(var)
    return math.erfc(abs(z) / math.sqrt(2))


def read(path):
    out = collections.defaultdict(dict)
    with open(path) as lines:
        for line in lines:
            if line.strip():
                problem, seed, regret, seconds = line.strip().split(",")
                out[problem][int(seed)] = (float(regret), float(seconds))
    return out


def table(descent_path, optuna_path):
    ours, theirs = read(descent_path), read(optuna_path)
    print("| problem | seeds | descent median | Optuna median | descent mean | Optuna mean |"
          " p | better |")
    print("|---|---|---|---|---|---|---|---|")
    wins = ties = losses = 0
    time_ours = time_theirs = 0.0
    for problem, runs in ours.items():
        seeds = sorted(set(runs) & set(theirs.get(problem, {})))
        if not seeds:
            continue
        a = [max(runs[s][0], 0.0) for s in seeds]
        b = [max(theirs[problem][s][0], 0.0) for s in seeds]
        time_ours += sum(runs[s][1] for s in seeds)
        time_theirs += sum(theirs[problem][s][1] for s in seeds)
        ma, mb = statistics.median(a), statistics.median(b)
        p = mann_whitney_p(a, b)
        if p >= 0.05:
            verdict, ties = "tie", ties + 1
        elif ma < mb:
            verdict, wins = "descent", wins + 1
        else:
            verdict, losses = "**Optuna**", losses + 1
        print("| %s | %d | %.4g | %.4g | %.4g | %.4g | %.2g | %s |" % (
            problem, len(seeds), ma, mb, statistics.mean(a), statistics.mean(b), p, verdict))
    print()
    print("descent better on %d, tie on %d, Optuna better on %d (Mann-Whitney, p < 0.05)" %
          (wins, ties, losses))
    if time_ours > 0:
        print("wall time of all studies: descent %.3g s, Optuna %.3g s (%.0fx)" %
              (time_ours, time_theirs, time_theirs / time_ours))


def ratio(parallel, serial):
    """parallel / serial, 1 when both are 0 (both found the optimum)."""
    if serial > 0:
        return parallel / serial
    return 1.0 if parallel <= 0 else math.inf


def workers_table(n, serial_path, parallel_path, label):
    serial, parallel = read(serial_path), read(parallel_path)
    print("| problem | seeds | serial median | %s median | ratio | serial mean | %s mean | p |"
          % (label, label))
    print("|---|---|---|---|---|---|---|---|")
    within, ratios = 0, []
    for problem, runs in serial.items():
        seeds = sorted(set(runs) & set(parallel.get(problem, {})))
        if not seeds:
            continue
        a = [max(runs[s][0], 0.0) for s in seeds]
        b = [max(parallel[problem][s][0], 0.0) for s in seeds]
        ma, mb = statistics.median(a), statistics.median(b)
        r = ratio(mb, ma)
        ratios.append(r)
        within += r <= 1.2
        print("| %s | %d | %.4g | %.4g | %.2f | %.4g | %.4g | %.2g |" % (
            problem, len(seeds), ma, mb, r, statistics.mean(a), statistics.mean(b),
            mann_whitney_p(a, b)))
    print()
    finite = [r for r in ratios if math.isfinite(r) and r > 0]
    print("%s within 1.2x of serial median regret on %d of %d problems; geometric mean ratio %.3f"
          % (label, within, len(ratios),
             math.exp(sum(math.log(r) for r in finite) / len(finite)) if finite else math.nan))


def main():
    if sys.argv[1] == "--agree":
        sys.exit(0 if agree(sys.argv[2], sys.argv[3]) else 1)
    if sys.argv[1] == "--workers":
        n = int(sys.argv[2])
        label = sys.argv[5] if len(sys.argv) > 5 else "%d workers" % n
        workers_table(n, sys.argv[3], sys.argv[4], label)
        return
    table(sys.argv[1], sys.argv[2])


if __name__ == "__main__":
    main()
