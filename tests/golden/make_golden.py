#!/usr/bin/python3
"""Generate the golden optimizer trajectories in tests/golden/optim/.

Each case runs one optimizer for STEPS steps on a small separable quadratic
problem with an alternating "shake" term, once entirely in float64 and once
entirely in float32, and records the parameter vector after every step.  The
C++ tests replay the same problem with descent's optimizers and compare.

The reference is PyTorch 1.13 (torch.optim, foreach=False), except for NAdam: 1.13 has a bug
in its momentum-cache product (see the NAdam class below), so this script carries
its own NAdam step, checked against torch.optim.NAdam with the bug switched
back on, and generates the data with the corrected rule.

Run from the repository root with the Debian interpreter that has PyTorch 1.13
(python3-torch):

    /usr/bin/python3 tests/golden/make_golden.py

It rewrites every file in tests/golden/optim/ and prints one line per case.
The output is deterministic, so an unchanged script reproduces the same files.

The script forces PyTorch's portable CPU kernels (ATEN_CPU_CAPABILITY=default):
its AVX2 kernels let the compiler fuse a*b+c into FMA instructions, which
changes the last bits (float64 relative differences up to ~1e-13 after 50
steps) and would make the data depend on the machine.  With the portable
kernels on x86-64 every operation is a plain, correctly rounded IEEE operation.
"""

import math
import os
import random
import zlib

# Must be set before PyTorch picks its kernels (at import, to be safe).
os.environ["ATEN_CPU_CAPABILITY"] = "default"

import torch  # noqa: E402

SIZE = 6    # length of the parameter vector
STEPS = 50  # optimizer steps per run
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim")

# Our option names and defaults, per optimizer (the defaults equal PyTorch's).
# The order here is the order options are written in the files.
_ADAM = dict(learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8,
             weight_decay=0.0, amsgrad=False, decoupled_weight_decay=False, maximize=False)
DEFAULTS = {
    "sgd": dict(learning_rate=1e-3, weight_decay=0.0, maximize=False),
    "momentum": dict(learning_rate=1e-3, momentum=0.9, dampening=0.0, weight_decay=0.0,
                     maximize=False),
    "nesterov": dict(learning_rate=1e-3, momentum=0.9, weight_decay=0.0, maximize=False),
    "adagrad": dict(learning_rate=1e-2, lr_decay=0.0, initial_accumulator=0.0,
                    epsilon=1e-10, weight_decay=0.0, maximize=False),
    "rmsprop": dict(learning_rate=1e-2, rho=0.99, epsilon=1e-8, momentum=0.0,
                    centered=False, weight_decay=0.0, maximize=False),
    "adadelta": dict(learning_rate=1.0, rho=0.9, epsilon=1e-6, weight_decay=0.0, maximize=False),
    "adam": _ADAM,
    "adamw": dict(_ADAM, weight_decay=1e-2, decoupled_weight_decay=True),
    "nadam": dict(learning_rate=2e-3, beta1=0.9, beta2=0.999, epsilon=1e-8, weight_decay=0.0,
                  momentum_decay=4e-3, decoupled_weight_decay=False),
    "radam": dict(learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8, weight_decay=0.0),
    "adamax": dict(learning_rate=2e-3, beta1=0.9, beta2=0.999, epsilon=1e-8, weight_decay=0.0,
                   maximize=False),
    "rprop": dict(learning_rate=1e-2, eta_minus=0.5, eta_plus=1.2, step_size_min=1e-6,
                  step_size_max=50.0, maximize=False),
    "asgd": dict(learning_rate=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0,
                 maximize=False),
}

# (case name, optimizer, non-default options).  Non-default cases use larger
# learning rates than the defaults so that the trajectories really move.
CASES = [
    ("sgd_default", "sgd", {}),
    ("sgd_weight_decay", "sgd", dict(learning_rate=0.05, weight_decay=0.1)),
    ("sgd_large_lr", "sgd", dict(learning_rate=0.1)),
    ("momentum_default", "momentum", {}),
    ("momentum_dampening", "momentum",
     dict(learning_rate=0.03, momentum=0.8, dampening=0.5, weight_decay=0.01)),
    ("nesterov_default", "nesterov", {}),
    ("nesterov_weight_decay", "nesterov", dict(learning_rate=0.02, weight_decay=0.1)),
    ("adagrad_default", "adagrad", {}),
    ("adagrad_options", "adagrad",
     dict(learning_rate=0.1, lr_decay=0.01, initial_accumulator=0.1,
          epsilon=1e-8, weight_decay=0.05)),
    ("rmsprop_default", "rmsprop", {}),
    ("rmsprop_rho_epsilon", "rmsprop", dict(learning_rate=0.05, rho=0.9, epsilon=1e-4)),
    ("rmsprop_centered", "rmsprop", dict(learning_rate=0.05, centered=True)),
    ("rmsprop_momentum", "rmsprop", dict(learning_rate=0.02, momentum=0.9)),
    ("rmsprop_centered_momentum_wd", "rmsprop",
     dict(learning_rate=0.03, centered=True, momentum=0.5, weight_decay=0.01)),
    ("adadelta_default", "adadelta", {}),
    ("adadelta_options", "adadelta",
     dict(learning_rate=0.5, rho=0.95, epsilon=1e-5, weight_decay=0.01)),
    ("adam_default", "adam", {}),
    ("adam_l2", "adam", dict(learning_rate=0.05, weight_decay=0.1)),
    ("adam_amsgrad", "adam", dict(learning_rate=0.05, amsgrad=True)),
    ("adam_decoupled", "adam",
     dict(learning_rate=0.05, decoupled_weight_decay=True, weight_decay=0.1)),
    ("adam_betas", "adam", dict(learning_rate=0.05, beta1=0.5, beta2=0.9, epsilon=1e-6)),
    ("adam_amsgrad_decoupled", "adam",
     dict(learning_rate=0.05, beta1=0.8, beta2=0.99, weight_decay=0.1, amsgrad=True,
          decoupled_weight_decay=True)),
    ("adamw_default", "adamw", {}),
    ("adamw_amsgrad", "adamw", dict(learning_rate=0.05, amsgrad=True)),
    ("adamw_l2", "adamw", dict(learning_rate=0.05, decoupled_weight_decay=False)),
    ("nadam_default", "nadam", {}),
    ("nadam_l2", "nadam", dict(learning_rate=0.05, weight_decay=0.05)),
    ("nadam_momentum_decay", "nadam", dict(learning_rate=0.05, momentum_decay=0.02)),
    ("nadam_betas", "nadam", dict(learning_rate=0.05, beta1=0.8, beta2=0.99, epsilon=1e-6)),
    ("nadam_decoupled", "nadam",
     dict(learning_rate=0.05, decoupled_weight_decay=True, weight_decay=0.05)),
    # maximize: the gradient negated before weight decay, in every class of 1.13 that has it
    ("sgd_maximize", "sgd", dict(learning_rate=0.01, weight_decay=0.1, maximize=True)),
    ("momentum_maximize", "momentum",
     dict(learning_rate=0.01, momentum=0.8, dampening=0.5, weight_decay=0.01, maximize=True)),
    ("nesterov_maximize", "nesterov", dict(learning_rate=0.005, weight_decay=0.1, maximize=True)),
    ("adagrad_maximize", "adagrad",
     dict(learning_rate=0.1, lr_decay=0.01, weight_decay=0.05, maximize=True)),
    ("rmsprop_maximize", "rmsprop",
     dict(learning_rate=0.03, centered=True, momentum=0.5, weight_decay=0.01, maximize=True)),
    ("adadelta_maximize", "adadelta", dict(learning_rate=0.5, weight_decay=0.01, maximize=True)),
    ("adam_maximize", "adam", dict(learning_rate=0.05, weight_decay=0.1, maximize=True)),
    ("adamw_maximize", "adamw", dict(learning_rate=0.05, amsgrad=True, maximize=True)),
    # the rest of torch.optim 1.13
    ("radam_default", "radam", {}),
    ("radam_options", "radam",
     dict(learning_rate=0.05, beta1=0.8, beta2=0.99, epsilon=1e-6, weight_decay=0.05)),
    ("adamax_default", "adamax", {}),
    ("adamax_options", "adamax",
     dict(learning_rate=0.05, beta1=0.8, beta2=0.99, epsilon=1e-4, weight_decay=0.05)),
    ("adamax_maximize", "adamax", dict(learning_rate=0.05, weight_decay=0.05, maximize=True)),
    ("rprop_default", "rprop", {}),
    ("rprop_options", "rprop",
     dict(learning_rate=0.05, eta_minus=0.3, eta_plus=1.5, step_size_min=1e-3,
          step_size_max=0.2)),
    ("rprop_maximize", "rprop", dict(learning_rate=0.02, step_size_max=0.5, maximize=True)),
    ("asgd_default", "asgd", {}),
    ("asgd_options", "asgd",
     dict(learning_rate=0.05, lambd=1e-2, alpha=0.6, t0=10.0, weight_decay=0.05)),
    ("asgd_maximize", "asgd", dict(learning_rate=0.01, t0=5.0, maximize=True)),
]


def make_problem(seed):
    """Draw curvature a, center b, shake s and initial point p0 (float64 lists)."""
    rng = random.Random(seed)
    a = [math.exp(rng.uniform(math.log(0.1), math.log(10.0))) for _ in range(SIZE)]
    b = [rng.uniform(-1.0, 1.0) for _ in range(SIZE)]
    s = [rng.uniform(-0.5, 0.5) for _ in range(SIZE)]
    p0 = [rng.uniform(-2.0, 2.0) for _ in range(SIZE)]
    return a, b, s, p0


def gradient(p, a, b, s, t):
    """Gradient at 1-based step t: a*(p-b) plus the shake on odd, minus on even steps."""
    g = a * (p - b)
    return g + s if t % 2 == 1 else g - s


class NAdam:
    """PyTorch 1.13's _single_tensor_nadam, op for op, for one parameter tensor.

    1.13 computes mu_product_next = mu_product * mu * mu_next, counting mu
    twice (mu_product already includes it); the corrected rule, as in later
    PyTorch, is mu_product * mu_next.  With torch113=True this class
    reproduces 1.13 exactly, including its mu_product state being a float32
    scalar tensor whatever the parameter dtype; otherwise it applies the
    corrected rule with mu_product kept as a Python float (double).
    decoupled_weight_decay (not in 1.13) follows later PyTorch / AdamW.
    """

    def __init__(self, param, lr, beta1, beta2, epsilon, weight_decay, momentum_decay,
                 decoupled_weight_decay, torch113=False):
        self.param = param
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, epsilon
        self.weight_decay, self.momentum_decay = weight_decay, momentum_decay
        self.decoupled, self.torch113 = decoupled_weight_decay, torch113
        self.step_count = 0.0  # 1.13 keeps a float32 tensor and reads it with .item()
        self.mu_product = torch.tensor(1.) if torch113 else 1.0
        self.exp_avg = torch.zeros_like(param)
        self.exp_avg_sq = torch.zeros_like(param)

    @torch.no_grad()
    def step(self):
        param, grad = self.param, self.param.grad
        lr, beta1, beta2, eps = self.lr, self.beta1, self.beta2, self.eps
        self.step_count += 1
        step = self.step_count
        bias_correction2 = 1 - beta2 ** step

        if self.weight_decay != 0:
            if self.decoupled:
                param.mul_(1 - lr * self.weight_decay)
            else:
                grad = grad.add(param, alpha=self.weight_decay)

        # momentum cache mu_t and mu_{t+1}
        mu = beta1 * (1. - 0.5 * (0.96 ** (step * self.momentum_decay)))
        mu_next = beta1 * (1. - 0.5 * (0.96 ** ((step + 1) * self.momentum_decay)))

        if self.torch113:
            self.mu_product *= mu                             # float32 tensor, in place
            mu_product_next = self.mu_product * mu * mu_next  # the 1.13 bug
            mu_product, mu_product_next = self.mu_product.item(), mu_product_next.item()
        else:
            self.mu_product *= mu
            mu_product, mu_product_next = self.mu_product, self.mu_product * mu_next

        self.exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
        self.exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)

        denom = self.exp_avg_sq.div(bias_correction2).sqrt().add_(eps)
        param.addcdiv_(grad, denom, value=-lr * (1. - mu) / (1. - mu_product))
        param.addcdiv_(self.exp_avg, denom, value=-lr * mu_next / (1. - mu_product_next))


def make_optimizer(name, o, param, torch113_nadam=False):
    """Build the reference optimizer for `param`; o holds all options, our names."""
    lr, wd = o["learning_rate"], o.get("weight_decay", 0.0)
    mx = o.get("maximize", False)
    if name == "sgd":
        return torch.optim.SGD([param], lr=lr, weight_decay=wd, maximize=mx, foreach=False)
    if name == "momentum":
        return torch.optim.SGD([param], lr=lr, momentum=o["momentum"], dampening=o["dampening"],
                               weight_decay=wd, maximize=mx, foreach=False)
    if name == "nesterov":
        return torch.optim.SGD([param], lr=lr, momentum=o["momentum"], nesterov=True,
                               weight_decay=wd, maximize=mx, foreach=False)
    if name == "adagrad":
        return torch.optim.Adagrad([param], lr=lr, lr_decay=o["lr_decay"], weight_decay=wd,
                                   initial_accumulator_value=o["initial_accumulator"],
                                   eps=o["epsilon"], maximize=mx, foreach=False)
    if name == "rmsprop":
        return torch.optim.RMSprop([param], lr=lr, alpha=o["rho"], eps=o["epsilon"],
                                   weight_decay=wd, momentum=o["momentum"],
                                   centered=o["centered"], maximize=mx, foreach=False)
    if name == "adadelta":
        return torch.optim.Adadelta([param], lr=lr, rho=o["rho"], eps=o["epsilon"],
                                    weight_decay=wd, maximize=mx, foreach=False)
    if name in ("adam", "adamw"):
        # decoupled weight decay is exactly AdamW's rule, coupled (L2) is Adam's
        cls = torch.optim.AdamW if o["decoupled_weight_decay"] else torch.optim.Adam
        return cls([param], lr=lr, betas=(o["beta1"], o["beta2"]), eps=o["epsilon"],
                   weight_decay=wd, amsgrad=o["amsgrad"], maximize=mx, foreach=False)
    if name == "radam":
        return torch.optim.RAdam([param], lr=lr, betas=(o["beta1"], o["beta2"]),
                                 eps=o["epsilon"], weight_decay=wd, foreach=False)
    if name == "adamax":
        return torch.optim.Adamax([param], lr=lr, betas=(o["beta1"], o["beta2"]),
                                  eps=o["epsilon"], weight_decay=wd, maximize=mx, foreach=False)
    if name == "rprop":
        return torch.optim.Rprop([param], lr=lr, etas=(o["eta_minus"], o["eta_plus"]),
                                 step_sizes=(o["step_size_min"], o["step_size_max"]),
                                 maximize=mx, foreach=False)
    if name == "asgd":
        return torch.optim.ASGD([param], lr=lr, lambd=o["lambd"], alpha=o["alpha"], t0=o["t0"],
                                weight_decay=wd, maximize=mx, foreach=False)
    if name == "nadam":
        return NAdam(param, lr, o["beta1"], o["beta2"], o["epsilon"], wd, o["momentum_decay"],
                     o["decoupled_weight_decay"], torch113=torch113_nadam)
    raise ValueError(name)


def run(opt_factory, problem, dtype, averaged=None):
    """Run STEPS steps in `dtype`; return the parameter after each step (tensors).

    With a list for `averaged`, also appends ASGD's averaged parameters (state "ax") after each
    step to it.
    """
    # float64 values -> dtype, rounding to nearest (as the C++ test does)
    a, b, s, p0 = (torch.tensor(v, dtype=torch.float64).to(dtype) for v in problem)
    param = p0.clone()
    opt = opt_factory(param)
    trajectory = []
    for t in range(1, STEPS + 1):
        param.grad = gradient(param, a, b, s, t)
        opt.step()
        trajectory.append(param.clone())
        if averaged is not None:
            averaged.append(opt.state[param]["ax"].clone())
    return trajectory


def validate_nadam():
    """Our NAdam with the 1.13 bug switched back on must match torch.optim.NAdam bitwise."""
    for case, name, options in CASES:
        if name != "nadam" or options.get("decoupled_weight_decay"):
            continue  # 1.13's NAdam has no decoupled weight decay
        o = dict(DEFAULTS[name], **options)
        problem = make_problem(zlib.crc32(case.encode()))
        for dtype in (torch.float64, torch.float32):
            ours = run(lambda p: make_optimizer(name, o, p, torch113_nadam=True), problem, dtype)
            theirs = run(lambda p: torch.optim.NAdam(
                [p], lr=o["learning_rate"], betas=(o["beta1"], o["beta2"]), eps=o["epsilon"],
                weight_decay=o["weight_decay"], momentum_decay=o["momentum_decay"],
                foreach=False), problem, dtype)
            assert all(torch.equal(x, y) for x, y in zip(ours, theirs)), (case, dtype)


def fmt_option(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(float(value))  # shortest round-trip decimal


def write_case(case, name, options):
    for key in options:
        assert key in DEFAULTS[name], (case, key)
    o = dict(DEFAULTS[name], **options)
    non_default = [f"{k}={fmt_option(o[k])}" for k in DEFAULTS[name] if o[k] != DEFAULTS[name][k]]

    problem = make_problem(zlib.crc32(case.encode()))  # a fixed seed per case name
    a, b, s, p0 = problem

    def numbers(values, f):
        return " ".join(f % v for v in values)

    lines = [
        "# descent golden trajectory, generated by tests/golden/make_golden.py "
        f"(PyTorch {torch.__version__}); do not edit",
        f"optimizer {name}",
        f"options {','.join(non_default) or '-'}",
        f"size {SIZE}",
        f"steps {STEPS}",
        f"curvature {numbers(a, '%.17g')}",
        f"center {numbers(b, '%.17g')}",
        f"shake {numbers(s, '%.17g')}",
        f"initial {numbers(p0, '%.17g')}",
    ]
    final = {}
    averages = []  # ASGD: its averaged parameters, after the trajectories
    for dtype, label, f in ((torch.float64, "float64", "%.17g"), (torch.float32, "float32", "%.9g")):
        averaged = [] if name == "asgd" else None
        trajectory = run(lambda p: make_optimizer(name, o, p), problem, dtype, averaged)
        lines.append(label)
        lines += [numbers(p.tolist(), f) for p in trajectory]
        final[label] = trajectory[-1].double()
        if averaged is not None:
            averages += [f"averaged_{label}"] + [numbers(p.tolist(), f) for p in averaged]
    lines += averages

    with open(os.path.join(OUT_DIR, case + ".txt"), "w") as out:
        out.write("\n".join(lines) + "\n")

    # Summary: how far the float32 run ends from the float64 one.
    diff = (final["float32"] - final["float64"]).abs().max().item()
    print(f"{case:30s} {non_default and ','.join(non_default) or '-':70s} "
          f"|p50| = {final['float64'].abs().max().item():.3g}, f32-f64 = {diff:.2g}")


def main():
    assert torch.__version__.startswith("1.13"), "the reference is PyTorch 1.13"
    validate_nadam()
    print("NAdam: 1.13 reproduced bitwise with the bug switched on; writing the corrected rule")
    os.makedirs(OUT_DIR, exist_ok=True)
    for case in CASES:
        write_case(*case)


if __name__ == "__main__":
    main()
