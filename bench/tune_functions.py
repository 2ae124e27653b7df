"""The tuning benchmark's problems, in Python: the same definitions as bench/tune_functions.hpp.

scripts/tune_bench.sh evaluates both at the same points and refuses to make a table when they
disagree, so a typo on one side cannot skew the comparison. A problem is its search space (a list
of parameters) and an objective over the values in that order; `argmin` is where its known optimum
lies, and the optimum's value is measured there, never typed in.
"""
import math

PI = math.pi


def flt(name, low, high, log=False, step=None):
    return dict(name=name, kind="float", low=low, high=high, log=log, step=step)


def integer(name, low, high, step=1, log=False):
    return dict(name=name, kind="int", low=low, high=high, step=step, log=log)


def cat(name, choices):
    return dict(name=name, kind="categorical", choices=choices)


def box(dims, low, high):
    return [flt("x%d" % i, low, high) for i in range(dims)]


# ---- continuous test functions (Surjanovic & Bingham's collection, usual domains) ---------------

def sphere(x):
    return sum(v * v for v in x)


def ellipsoid(x):  # Schwefel 1.2, the rotated hyper-ellipsoid: ill-conditioned, not separable
    total, partial = 0.0, 0.0
    for v in x:
        partial += v
        total += partial * partial
    return total


def rosenbrock(x):
    return sum(100 * (x[i + 1] - x[i] * x[i]) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1))


def rastrigin(x):
    return 10 * len(x) + sum(v * v - 10 * math.cos(2 * PI * v) for v in x)


def ackley(x):
    d = len(x)
    squares = sum(v * v for v in x) / d
    cosines = sum(math.cos(2 * PI * v) for v in x) / d
    return -20 * math.exp(-0.2 * math.sqrt(squares)) - math.exp(cosines) + 20 + math.e


def griewank(x):
    total, product = 0.0, 1.0
    for i, v in enumerate(x):
        total += v * v / 4000
        product *= math.cos(v / math.sqrt(i + 1))
    return total - product + 1


def styblinski_tang(x):
    return sum(v ** 4 - 16 * v * v + 5 * v for v in x) / 2


def levy(x):
    w = [1 + (v - 1) / 4 for v in x]
    total = math.sin(PI * w[0]) ** 2
    for wi in w[:-1]:
        total += (wi - 1) ** 2 * (1 + 10 * math.sin(PI * wi + 1) ** 2)
    return total + (w[-1] - 1) ** 2 * (1 + math.sin(2 * PI * w[-1]) ** 2)


def schwefel(x):
    return 418.9828872724338 * len(x) - sum(v * math.sin(math.sqrt(abs(v))) for v in x)


HARTMANN_ALPHA = [1.0, 1.2, 3.0, 3.2]
HARTMANN_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
              [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
HARTMANN_P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
              [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]


def hartmann6(x):
    total = 0.0
    for i in range(4):
        inner = 0.0
        for j in range(6):
            d = x[j] - HARTMANN_P[i][j] * 1e-4
            inner += HARTMANN_A[i][j] * d * d
        total += HARTMANN_ALPHA[i] * math.exp(-inner)
    return -total


def branin(x):
    b, c, t = 5.1 / (4 * PI * PI), 5 / PI, 1 / (8 * PI)
    return (x[1] - b * x[0] * x[0] + c * x[0] - 6) ** 2 + 10 * (1 - t) * math.cos(x[0]) + 10


def six_hump_camel(x):
    a, b = x[0] * x[0], x[1] * x[1]
    return (4 - 2.1 * a + a * a / 3) * a + x[0] * x[1] + (-4 + 4 * b) * b


# ---- mixed spaces: a network's and a trainer's hyperparameters, optimum 0 by construction -------

MLP_BEST_LOG_LR = {"sgd": -1.0, "momentum": -2.0, "adam": -3.0, "rmsprop": -3.0}
MLP_OPTIMIZER_COST = {"sgd": 0.6, "momentum": 0.3, "adam": 0.0, "rmsprop": 0.15}
MLP_ACTIVATION_COST = {"relu": 0.1, "tanh": 0.4, "sigmoid": 0.8, "gelu": 0.0}


def mlp(v):
    lr, optimizer, layers, units, dropout, activation = v
    width = math.log2(units)
    return ((math.log10(lr) - MLP_BEST_LOG_LR[optimizer]) ** 2 + MLP_OPTIMIZER_COST[optimizer] +
            0.2 * (layers - 3) ** 2 + 0.3 * (width - 7) ** 2 + ((layers * width - 21) / 10) ** 2 +
            4 * (dropout - 0.05 * (width - 3)) ** 2 + MLP_ACTIVATION_COST[activation])


TRAINER_SCHEDULE_COST = {"constant": 0.5, "step": 0.2, "cosine": 0.0, "linear": 0.1}


def trainer(v):
    batch_size, epochs, momentum, weight_decay, schedule, warmup = v
    b = math.log2(batch_size)
    return (0.5 * (b - 6) ** 2 + ((epochs - 10 * (b - 2)) / 30) ** 2 + 8 * (momentum - 0.9) ** 2 +
            0.25 * (math.log10(weight_decay) + 4) ** 2 + TRAINER_SCHEDULE_COST[schedule] +
            0.05 * (warmup - 3) ** 2)


HARTMANN6_ARGMIN = [0.20168952, 0.15001069, 0.47687398, 0.27533243, 0.31165162, 0.65730054]

# name -> (parameters, objective, argmin)
PROBLEMS = {
    "sphere": (box(5, -5.12, 5.12), sphere, [0.0] * 5),
    "ellipsoid": (box(10, -65.536, 65.536), ellipsoid, [0.0] * 10),
    "rosenbrock": (box(4, -5.0, 10.0), rosenbrock, [1.0] * 4),
    "rastrigin": (box(6, -5.12, 5.12), rastrigin, [0.0] * 6),
    "ackley": (box(5, -32.768, 32.768), ackley, [0.0] * 5),
    "griewank": (box(4, -600.0, 600.0), griewank, [0.0] * 4),
    "styblinski_tang": (box(5, -5.0, 5.0), styblinski_tang, [-2.903534027771178] * 5),
    "levy": (box(4, -10.0, 10.0), levy, [1.0] * 4),
    "schwefel": (box(3, -500.0, 500.0), schwefel, [420.9687463599820] * 3),
    "hartmann6": (box(6, 0.0, 1.0), hartmann6, HARTMANN6_ARGMIN),
    "branin": ([flt("x0", -5.0, 10.0), flt("x1", 0.0, 15.0)], branin, [PI, 2.275]),
    "six_hump_camel": ([flt("x0", -3.0, 3.0), flt("x1", -2.0, 2.0)], six_hump_camel,
                       [0.08984201368301331, -0.7126564032704135]),
    "mlp": ([flt("lr", 1e-5, 1.0, log=True),
             cat("optimizer", ["sgd", "momentum", "adam", "rmsprop"]),
             integer("layers", 1, 5), integer("units", 8, 1024, log=True),
             flt("dropout", 0.0, 0.5), cat("activation", ["relu", "tanh", "sigmoid", "gelu"])],
            mlp, [1e-3, "adam", 3, 128, 0.2, "gelu"]),
    "trainer": ([integer("batch_size", 16, 1024, log=True), integer("epochs", 10, 100, step=10),
                 flt("momentum", 0.0, 0.95, step=0.05), flt("weight_decay", 1e-6, 1e-1, log=True),
                 cat("schedule", ["constant", "step", "cosine", "linear"]),
                 integer("warmup", 0, 10)],
                trainer, [64, 40, 0.9, 1e-4, "cosine", 3]),
}


def check_points(params, count=3):
    """`count` points spread over the space by a golden-ratio sequence, the same in C++."""
    points = []
    for k in range(count):
        point = []
        for i, p in enumerate(params):
            t = math.fmod(0.5 + (k + 1) * 0.6180339887498949 * (i + 1), 1.0)
            if p["kind"] == "categorical":
                point.append(p["choices"][int(t * len(p["choices"]))])
            elif p["kind"] == "int":
                n = (p["high"] - p["low"]) // p["step"]
                point.append(p["low"] + p["step"] * int(t * (n + 1)))
            elif p["log"]:
                point.append(math.exp(math.log(p["low"]) + t * (math.log(p["high"]) -
                                                               math.log(p["low"]))))
            else:
                point.append(p["low"] + t * (p["high"] - p["low"]))
        points.append(point)
    return points
