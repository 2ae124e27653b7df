#!/usr/bin/python3
"""Generate the golden learning-rate schedules in tests/golden/schedule/.

Each case builds one torch.optim.lr_scheduler class, with non-default arguments, on a dummy
optimizer over one parameter (SGD with momentum, or Adam where OneCycleLR cycles beta1), and
records what param_groups[0] holds before each optimizer step: the learning rate, and the
momentum (SGD's momentum, Adam's beta1) where the scheduler cycles it. ReduceLROnPlateau cases
also record the metric fed to step() after each optimizer step. The C++ test
(tests/schedule_test.cpp) builds the matching descent::schedule object for each case and
compares every value.

Run from the repository root with the Debian interpreter that has PyTorch 1.13
(python3-torch):

    /usr/bin/python3 tests/golden/make_golden_schedules.py

It rewrites every file in tests/golden/schedule/ and prints one line per case. The output is
deterministic. Schedulers are plain Python float arithmetic: no tensor kernel is involved.
"""

import os
import random
import warnings

import torch
from torch.optim import lr_scheduler as S

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schedule")
STEPS = 60   # values per case (OneCycleLR: total_steps, the steps it is made for)
LR = 0.1     # the optimizer's learning rate, PyTorch's base_lr of every scheduler here


def sgd(momentum=0.0):
    return torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=LR, momentum=momentum)


def adam():
    return torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=LR, betas=(0.9, 0.999))


def momentum_of(optimizer):
    group = optimizer.param_groups[0]
    return group["betas"][0] if "betas" in group else group["momentum"]


def metrics(seed, maximize):
    """A noisy loss that improves, stalls and improves again, rounded to 3 decimals so that
    ties and near-ties against the threshold occur (an accuracy-like rising curve if maximize)."""
    rng = random.Random(seed)
    values = []
    for t in range(STEPS):
        base = 1.0 / (1 + 0.15 * t) if t < 20 or t >= 40 else 1.0 / (1 + 0.15 * 20)
        value = round(base + rng.uniform(-0.02, 0.02), 3)
        values.append(round(1 - value, 3) if maximize else value)
    return values


# (case, torch constructor text, make(optimizer) -> scheduler, optimizer factory, cycles momentum)
CASES = [
    ("lambda_inverse", "LambdaLR(lr_lambda=lambda t: 1 / (1 + t))",
     lambda o: S.LambdaLR(o, lambda t: 1 / (1 + t)), sgd, False),
    ("lambda_power", "LambdaLR(lr_lambda=lambda t: 0.95 ** t)",
     lambda o: S.LambdaLR(o, lambda t: 0.95 ** t), sgd, False),
    ("multiplicative_constant", "MultiplicativeLR(lr_lambda=lambda t: 0.95)",
     lambda o: S.MultiplicativeLR(o, lambda t: 0.95), sgd, False),
    ("multiplicative_varying", "MultiplicativeLR(lr_lambda=lambda t: 1 / (1 + 0.01 * t))",
     lambda o: S.MultiplicativeLR(o, lambda t: 1 / (1 + 0.01 * t)), sgd, False),
    ("step", "StepLR(step_size=7, gamma=0.5)",
     lambda o: S.StepLR(o, step_size=7, gamma=0.5), sgd, False),
    ("multistep", "MultiStepLR(milestones=[5, 12, 12, 30], gamma=0.3)",
     lambda o: S.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3), sgd, False),
    ("constant", "ConstantLR(factor=0.25, total_iters=8)",
     lambda o: S.ConstantLR(o, factor=0.25, total_iters=8), sgd, False),
    ("linear_up", "LinearLR(start_factor=0.2, end_factor=0.9, total_iters=17)",
     lambda o: S.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=17), sgd, False),
    ("linear_down", "LinearLR(start_factor=1.0, end_factor=0.05, total_iters=45)",
     lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=45), sgd, False),
    ("exponential", "ExponentialLR(gamma=0.93)",
     lambda o: S.ExponentialLR(o, gamma=0.93), sgd, False),
    ("polynomial", "PolynomialLR(total_iters=40, power=2.5)",
     lambda o: S.PolynomialLR(o, total_iters=40, power=2.5), sgd, False),
    ("polynomial_linear", "PolynomialLR(total_iters=25, power=1.0)",
     lambda o: S.PolynomialLR(o, total_iters=25, power=1.0), sgd, False),
    ("cosine", "CosineAnnealingLR(T_max=23, eta_min=0.004)",
     lambda o: S.CosineAnnealingLR(o, T_max=23, eta_min=0.004), sgd, False),
    ("cosine_to_zero", "CosineAnnealingLR(T_max=15)",
     lambda o: S.CosineAnnealingLR(o, T_max=15), sgd, False),
    ("warm_restarts", "CosineAnnealingWarmRestarts(T_0=7, eta_min=0.002)",
     lambda o: S.CosineAnnealingWarmRestarts(o, T_0=7, eta_min=0.002), sgd, False),
    ("warm_restarts_mult2", "CosineAnnealingWarmRestarts(T_0=3, T_mult=2, eta_min=0.001)",
     lambda o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.001), sgd, False),
    ("cyclic_triangular",
     "CyclicLR(base_lr=0.01, max_lr=0.1, step_size_up=7, step_size_down=5, base_momentum=0.8, "
     "max_momentum=0.9) on SGD(momentum=0.9)",
     lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=7, step_size_down=5,
                          base_momentum=0.8, max_momentum=0.9),
     lambda: sgd(0.9), True),
    ("cyclic_triangular2",
     "CyclicLR(base_lr=0.02, max_lr=0.2, step_size_up=6, mode='triangular2', "
     "base_momentum=0.85, max_momentum=0.95) on SGD(momentum=0.9)",
     lambda o: S.CyclicLR(o, base_lr=0.02, max_lr=0.2, step_size_up=6, mode="triangular2",
                          base_momentum=0.85, max_momentum=0.95),
     lambda: sgd(0.9), True),
    ("cyclic_exp_range",
     "CyclicLR(base_lr=0.001, max_lr=0.05, step_size_up=5, step_size_down=9, mode='exp_range', "
     "gamma=0.97, base_momentum=0.7, max_momentum=0.9) on SGD(momentum=0.9)",
     lambda o: S.CyclicLR(o, base_lr=0.001, max_lr=0.05, step_size_up=5, step_size_down=9,
                          mode="exp_range", gamma=0.97, base_momentum=0.7, max_momentum=0.9),
     lambda: sgd(0.9), True),
    ("cyclic_scale_fn",
     "CyclicLR(base_lr=0.01, max_lr=0.1, step_size_up=4, step_size_down=6, "
     "scale_fn=lambda x: 1 / (1 + 0.05 * x), scale_mode='iterations') on SGD(momentum=0.9)",
     lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4, step_size_down=6,
                          scale_fn=lambda x: 1 / (1 + 0.05 * x), scale_mode="iterations"),
     lambda: sgd(0.9), True),
    ("one_cycle_cos",
     "OneCycleLR(max_lr=0.2, total_steps=60, pct_start=0.25, div_factor=10, "
     "final_div_factor=100, base_momentum=0.8, max_momentum=0.92) on SGD(momentum=0.9)",
     lambda o: S.OneCycleLR(o, max_lr=0.2, total_steps=STEPS, pct_start=0.25, div_factor=10.0,
                            final_div_factor=100.0, base_momentum=0.8, max_momentum=0.92),
     lambda: sgd(0.9), True),
    ("one_cycle_linear",
     "OneCycleLR(max_lr=0.05, total_steps=60, pct_start=0.4, anneal_strategy='linear', "
     "div_factor=20, final_div_factor=50) on Adam (cycles beta1)",
     lambda o: S.OneCycleLR(o, max_lr=0.05, total_steps=STEPS, pct_start=0.4,
                            anneal_strategy="linear", div_factor=20.0, final_div_factor=50.0),
     adam, True),
    ("one_cycle_three_phase",
     "OneCycleLR(max_lr=0.3, total_steps=60, pct_start=0.35, three_phase=True, "
     "base_momentum=0.75, max_momentum=0.9) on Adam (cycles beta1)",
     lambda o: S.OneCycleLR(o, max_lr=0.3, total_steps=STEPS, pct_start=0.35,
                            three_phase=True, base_momentum=0.75, max_momentum=0.9),
     adam, True),
    ("one_cycle_three_phase_linear",
     "OneCycleLR(max_lr=0.3, total_steps=60, pct_start=0.2, anneal_strategy='linear', "
     "three_phase=True) on SGD(momentum=0.9)",
     lambda o: S.OneCycleLR(o, max_lr=0.3, total_steps=STEPS, pct_start=0.2,
                            anneal_strategy="linear", three_phase=True),
     lambda: sgd(0.9), True),
    ("sequential_warmup_cosine",
     "SequentialLR([LinearLR(start_factor=0.25, total_iters=6), "
     "CosineAnnealingLR(T_max=40, eta_min=0.001)], milestones=[6])",
     lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.25, total_iters=6),
                                  S.CosineAnnealingLR(o, T_max=40, eta_min=0.001)],
                              milestones=[6]),
     sgd, False),
    ("sequential_three",
     "SequentialLR([ConstantLR(factor=0.5, total_iters=100), StepLR(step_size=5, gamma=0.5), "
     "ExponentialLR(gamma=0.95)], milestones=[10, 30])",
     lambda o: S.SequentialLR(o, [S.ConstantLR(o, factor=0.5, total_iters=100),
                                  S.StepLR(o, step_size=5, gamma=0.5),
                                  S.ExponentialLR(o, gamma=0.95)],
                              milestones=[10, 30]),
     sgd, False),
    ("chained_two",
     "ChainedScheduler([ConstantLR(factor=0.3, total_iters=6), ExponentialLR(gamma=0.96)])",
     lambda o: S.ChainedScheduler([S.ConstantLR(o, factor=0.3, total_iters=6),
                                   S.ExponentialLR(o, gamma=0.96)]),
     sgd, False),
    ("chained_three",
     "ChainedScheduler([LinearLR(start_factor=0.2, total_iters=10), StepLR(step_size=15, "
     "gamma=0.5), PolynomialLR(total_iters=50, power=1.5)])",
     lambda o: S.ChainedScheduler([S.LinearLR(o, start_factor=0.2, total_iters=10),
                                   S.StepLR(o, step_size=15, gamma=0.5),
                                   S.PolynomialLR(o, total_iters=50, power=1.5)]),
     sgd, False),
]

# (case, ReduceLROnPlateau arguments, metric seed, maximize)
PLATEAU_CASES = [
    ("plateau_min_rel", dict(mode="min", factor=0.5, patience=2, threshold=0.05,
                             threshold_mode="rel", cooldown=2, min_lr=0.004), 1, False),
    ("plateau_min_abs", dict(mode="min", factor=0.3, patience=3, threshold=0.02,
                             threshold_mode="abs", cooldown=1, min_lr=0.001), 2, False),
    ("plateau_max_rel", dict(mode="max", factor=0.6, patience=1, threshold=0.03,
                             threshold_mode="rel", cooldown=3, min_lr=0.002, eps=1e-4), 3, True),
    ("plateau_max_abs", dict(mode="max", factor=0.5, patience=2, threshold=0.01,
                             threshold_mode="abs", cooldown=0, min_lr=0.015, eps=0.01), 4, True),
]


def numbers(values):
    return " ".join(repr(float(v)) for v in values)


def write(case, description, series):
    lines = [
        "# descent golden learning-rate schedule, generated by "
        f"tests/golden/make_golden_schedules.py (PyTorch {torch.__version__}); do not edit",
        f"# torch.optim.lr_scheduler.{description}, optimizer lr {LR}",
    ]
    lines += [f"{name} {numbers(values)}" for name, values in series]
    with open(os.path.join(OUT_DIR, case + ".txt"), "w") as out:
        out.write("\n".join(lines) + "\n")
    lr = series[0][1]
    print(f"{case:30s} {len(lr)} steps, lr in [{min(lr):.3g}, {max(lr):.3g}]")


def run(case, description, make, optimizer_factory, cycles_momentum):
    optimizer = optimizer_factory()
    scheduler = make(optimizer)
    steps = STEPS
    lrs, momenta = [], []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        momenta.append(momentum_of(optimizer))
        optimizer.step()
        if len(lrs) < steps:
            scheduler.step()
    series = [("lr", lrs)] + ([("momentum", momenta)] if cycles_momentum else [])
    write(case, description, series)


def run_plateau(case, arguments, seed, maximize):
    optimizer = sgd()
    scheduler = S.ReduceLROnPlateau(optimizer, **arguments)
    values = metrics(seed, maximize)
    lrs = []
    for metric in values:
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step(metric)
    text = ", ".join(f"{k}={v!r}" for k, v in arguments.items())
    write(case, f"ReduceLROnPlateau({text})", [("lr", lrs), ("metric", values)])


def main():
    assert torch.__version__.startswith("1.13"), "the reference is PyTorch 1.13"
    warnings.simplefilter("ignore")  # SequentialLR steps its schedulers with step(0)
    os.makedirs(OUT_DIR, exist_ok=True)
    for case in CASES:
        run(*case)
    for case in PLATEAU_CASES:
        run_plateau(*case)


if __name__ == "__main__":
    main()
