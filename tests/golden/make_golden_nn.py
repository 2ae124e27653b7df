#!/usr/bin/python3
"""Generate the golden MLP training steps in tests/golden/nn/.

Each case is a small multilayer perceptron

    Dense(in -> h1) -> activation -> Dense(h1 -> h2) -> activation -> Dense(h2 -> out) -> loss

where Dense computes z = W x + b with W of shape (out, in), exactly like
torch.nn.Linear.  For each case the script runs one forward pass, one backward
pass (loss.backward(), with requires_grad also set on the input x) and ONE
torch.optim.Adam step (lr=1e-3, otherwise defaults) over [W1, b1, W2, b2, W3, b3].
It does this twice, once entirely in float64 and once entirely in float32, and
records the loss, the gradients of the input and of every parameter, and the
parameters after the Adam step.  The C++ tests replay the same step with
descent's layers, losses and Adam and compare.

descent stores samples as COLUMNS (x is features x batch) while PyTorch stores
them as rows, so x, y and grad_x are transposed on the way in and out; the
files use descent's layout.

Run from the repository root with the Debian interpreter that has PyTorch 1.13
(python3-torch):

    /usr/bin/python3 tests/golden/make_golden_nn.py

It rewrites every file in tests/golden/nn/ and prints one line per case.
The output is deterministic, so an unchanged script reproduces the same files.

The script forces PyTorch's portable CPU kernels (ATEN_CPU_CAPABILITY=default)
so that the elementwise kernels do not use FMA and the data do not depend on the
machine (see make_golden.py).  The matrix products go to the BLAS that PyTorch is
linked against (Debian: libblas.so.3, the reference netlib BLAS by default);
another BLAS (OpenBLAS, MKL) may change the last bits, far below the tolerances
of the tests.
"""

import math
import os
import random
import zlib

# Must be set before PyTorch picks its kernels (at import, to be safe).
os.environ["ATEN_CPU_CAPABILITY"] = "default"

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nn")
LEARNING_RATE = 1e-3   # Adam, all other options at their defaults
LARGE_LOGITS = 1e4     # target max |logit| of the large-logit case

# Activations, with PyTorch's defaults unless stated.  gelu is the exact erf
# form (approximate='none'); softplus has beta=1 and PyTorch's threshold=20
# (softplus(z) = z where z > 20, never reached by these data).
ACTIVATIONS = {
    "relu": F.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "gelu": lambda z: F.gelu(z, approximate="none"),
    "elu": lambda z: F.elu(z, alpha=1.0),
    "softplus": lambda z: F.softplus(z, beta=1.0),
    "leaky_relu": lambda z: F.leaky_relu(z, negative_slope=0.01),
}

# Losses on the (batch, out) output of the last layer; all are means, over the
# batch for cross_entropy and over all out*batch elements for the others.
LOSSES = {
    "cross_entropy": torch.nn.CrossEntropyLoss(),          # on logits, integer labels
    "mse": torch.nn.MSELoss(),
    "binary_cross_entropy": torch.nn.BCEWithLogitsLoss(),  # on logits, 0/1 targets
    "huber": torch.nn.HuberLoss(delta=1.0),
    "mae": torch.nn.L1Loss(),
}

# (case name, layer sizes, activation, loss, batch, large logits)
CASES = [
    ("mlp_relu_ce", (6, 8, 7, 4), "relu", "cross_entropy", 5, False),
    ("mlp_tanh_mse", (5, 6, 4, 3), "tanh", "mse", 5, False),
    ("mlp_sigmoid_bce", (4, 6, 5, 2), "sigmoid", "binary_cross_entropy", 5, False),
    ("mlp_gelu_huber", (5, 7, 6, 3), "gelu", "huber", 5, False),
    ("mlp_elu_mae", (5, 6, 6, 2), "elu", "mae", 5, False),
    ("mlp_softplus_ce_batch1", (6, 5, 4, 3), "softplus", "cross_entropy", 1, False),
    ("mlp_leaky_ce_large_logits", (4, 5, 5, 3), "leaky_relu", "cross_entropy", 5, True),
]

PARAMS = ["W1", "b1", "W2", "b2", "W3", "b3"]


def uniform_matrix(rng, rows, cols, lo, hi):
    """rows x cols list of lists, drawn row by row."""
    return [[rng.uniform(lo, hi) for _ in range(cols)] for _ in range(rows)]


def make_problem(name, layers, loss, batch, large_logits):
    """Draw the initial parameters, x and y (float64, descent's layout).

    Draw order: W1, b1, W2, b2, W3, b3 (each row-major), x (features x batch,
    row-major), y.  Returns a dict of float64 tensors; y holds class indices
    (1 x batch, int64) for cross_entropy and out x batch reals otherwise.
    """
    rng = random.Random(zlib.crc32(name.encode()))  # a fixed seed per case name
    p = {}
    for i in range(3):
        fan_in, fan_out = layers[i], layers[i + 1]
        p[f"W{i + 1}"] = torch.tensor(uniform_matrix(rng, fan_out, fan_in, -0.5, 0.5),
                                      dtype=torch.float64)
        p[f"b{i + 1}"] = torch.tensor(uniform_matrix(rng, fan_out, 1, -0.1, 0.1),
                                      dtype=torch.float64)
    p["x"] = torch.tensor(uniform_matrix(rng, layers[0], batch, -1.0, 1.0), dtype=torch.float64)
    n_out = layers[-1]
    if loss == "cross_entropy":
        p["y"] = torch.tensor([[rng.randrange(n_out) for _ in range(batch)]], dtype=torch.int64)
    elif loss == "binary_cross_entropy":
        p["y"] = torch.tensor([[float(rng.randrange(2)) for _ in range(batch)]
                               for _ in range(n_out)], dtype=torch.float64)
    else:
        p["y"] = torch.tensor(uniform_matrix(rng, n_out, batch, -1.0, 1.0), dtype=torch.float64)

    if large_logits:
        # Scale the last layer (W3 and b3) so that max |logit| is LARGE_LOGITS;
        # the written W3, b3 are the scaled values.
        with torch.no_grad():
            logits = forward(p, ACTIVATIONS[CASES_BY_NAME[name][2]], p["x"].t())
            scale = LARGE_LOGITS / logits.abs().max().item()
        p["W3"] = p["W3"] * scale
        p["b3"] = p["b3"] * scale
    return p


def forward(p, act, x):
    """x is (batch, features), torch's layout; returns the (batch, out) output."""
    h = act(F.linear(x, p["W1"], p["b1"].view(-1)))
    h = act(F.linear(h, p["W2"], p["b2"].view(-1)))
    return F.linear(h, p["W3"], p["b3"].view(-1))


def run(problem, activation, loss, dtype):
    """One forward, backward and Adam step entirely in `dtype`."""
    # float64 values -> dtype, rounding to nearest (as the C++ test does)
    params = {k: problem[k].to(dtype).clone().requires_grad_(True) for k in PARAMS}
    x = problem["x"].to(dtype).t().contiguous().requires_grad_(True)  # (batch, features)
    if loss == "cross_entropy":
        target = problem["y"].view(-1)                       # (batch,) int64 labels
    else:
        target = problem["y"].to(dtype).t().contiguous()    # (batch, out)

    out = forward(params, ACTIVATIONS[activation], x)
    value = LOSSES[loss](out, target)
    value.backward()

    result = {"loss": value.detach().clone(), "grad_x": x.grad.t().clone(), "output": out.detach()}
    for k in PARAMS:
        result["grad_" + k] = params[k].grad.clone()

    opt = torch.optim.Adam([params[k] for k in PARAMS], lr=LEARNING_RATE, foreach=False)
    opt.step()
    for k in PARAMS:
        result["after_" + k] = params[k].detach().clone()
    return result


def fmt_matrix(name, m, f):
    """`name rows cols` then one line per row; row-major."""
    m = m.reshape(m.shape[0], -1) if m.dim() == 2 else m.reshape(-1, 1)
    lines = [f"{name} {m.shape[0]} {m.shape[1]}"]
    for row in m.tolist():
        lines.append(" ".join(f % v for v in row))
    return lines


def block(result, f):
    lines = [f"loss {f % result['loss'].item()}"]
    lines += fmt_matrix("grad_x", result["grad_x"], f)
    for k in PARAMS:
        lines += fmt_matrix("grad_" + k, result["grad_" + k], f)
    for k in PARAMS:
        lines += fmt_matrix("after_" + k, result["after_" + k], f)
    return lines


def check_agreement(name, r64, r32):
    """float32 and float64 runs agree to ~1e-4 relative (each tensor, in max norm)."""
    worst = 0.0
    for key in ["loss", "grad_x"] + ["grad_" + k for k in PARAMS] + ["after_" + k for k in PARAMS]:
        a, b = r64[key], r32[key].double()
        assert torch.isfinite(a).all() and torch.isfinite(b).all(), (name, key)
        scale = a.abs().max().item()
        err = (a - b).abs().max().item()
        rel = err / scale if scale > 0 else err
        assert rel <= 1e-4, (name, key, rel)
        worst = max(worst, rel)
    # The Adam update itself (after - before, at most ~lr per element).
    for k in PARAMS:
        d64 = r64["after_" + k] - r64["before_" + k]
        d32 = (r32["after_" + k] - r32["before_" + k]).double()
        # In float32 the step is rounded to the spacing of the parameter, which
        # for the large-logit W3 (|W3| ~ 1e3..1e4) is comparable to lr itself.
        p32 = r32["after_" + k].abs()
        ulp = (torch.nextafter(p32, torch.full_like(p32, math.inf)) - p32).double()
        excess = ((d64 - d32).abs() - ulp).max().item() / LEARNING_RATE
        assert excess <= 1e-4, (name, "update " + k, excess)
    return worst


def write_case(name, layers, activation, loss, batch, large_logits):
    problem = make_problem(name, layers, loss, batch, large_logits)

    lines = [
        "# descent golden MLP step, generated by tests/golden/make_golden_nn.py "
        f"(PyTorch {torch.__version__}); do not edit",
        "layers " + " ".join(str(n) for n in layers),
        f"activation {activation}",
        f"loss {loss}",
        f"batch {batch}",
    ]
    lines += fmt_matrix("x", problem["x"], "%.17g")
    lines += fmt_matrix("y", problem["y"], "%d" if loss == "cross_entropy" else "%.17g")
    for k in PARAMS:
        lines += fmt_matrix(k, problem[k], "%.17g")

    results = {}
    for dtype, label, f in ((torch.float64, "float64", "%.17g"), (torch.float32, "float32", "%.9g")):
        r = run(problem, activation, loss, dtype)
        for k in PARAMS:
            r["before_" + k] = problem[k].to(dtype)
        lines.append(label)
        lines += block(r, f)
        results[label] = r

    worst = check_agreement(name, results["float64"], results["float32"])

    # Diagnostics
    r64 = results["float64"]
    out = r64["output"]
    extra = ""
    if loss == "huber":
        residual = (out - problem["y"].t()).abs()
        extra = (f", huber linear branch {int((residual >= 1.0).sum())}/{residual.numel()}"
                 f" (|r| nearest 1: {residual.flatten()[(residual - 1).abs().argmin()].item():.3g})")
    if large_logits:
        assert 0.5 * LARGE_LOGITS <= out.abs().max().item() <= 2 * LARGE_LOGITS
        for r in results.values():
            for v in r.values():
                assert torch.isfinite(v).all(), name
        extra = f", max|logit| {out.abs().max().item():.6g}"
    nonzero = torch.cat([r64["grad_" + k].abs().flatten() for k in PARAMS])
    nonzero = nonzero[nonzero > 0]
    print(f"{name:28s} loss64 = {r64['loss'].item():.17g}  loss32 = "
          f"{results['float32']['loss'].item():.9g}  f32-f64 rel <= {worst:.2g}, "
          f"min |g|>0 = {nonzero.min().item():.2g}{extra}")

    with open(os.path.join(OUT_DIR, name + ".txt"), "w") as out_file:
        out_file.write("\n".join(lines) + "\n")


CASES_BY_NAME = {c[0]: c for c in CASES}


def main():
    assert torch.__version__.startswith("1.13"), "the reference is PyTorch 1.13"
    torch.set_num_threads(1)
    os.makedirs(OUT_DIR, exist_ok=True)
    for case in CASES:
        write_case(*case)


if __name__ == "__main__":
    main()
