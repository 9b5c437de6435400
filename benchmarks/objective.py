"""The generalised loss of paper 003 (lossland.objective) against the squared loss it extends.

Two questions, answered side by side in one process (CPU ms per call):

1. Did the single-output squared case keep its speed when ``Network`` learned
   m outputs and an output activation? ``SquaredLoss`` value+gradient and
   Hessian now against ``--baseline REV`` (the package at git revision REV,
   extracted with ``git archive`` as in ``benchmarks/hessian.py``), and
   ``Objective(loss="squared")``, which hands that case to ``SquaredLoss``.
2. What does the general path cost? ``Objective`` with the generic
   R-operator Hessian (forced for the squared case too, for comparison), and
   for m > 1 outputs with an output activation and a robust loss, against
   finite differences of the exact gradient.

Nothing here is a timed assertion; the Hessians are asserted to agree.
Run from the repository root:
``.venv/bin/python benchmarks/objective.py [--repeat 11] [--baseline REV]``.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hessian import blas_threads, cpu_model, load_baseline, problem, time_methods  # noqa: E402

from lossland import Network, SquaredLoss  # noqa: E402
from lossland.derivatives import fd_hessian  # noqa: E402
from lossland.objective import Objective  # noqa: E402

SINGLE = [((1, 2, 1), 10, (1, 1, 1)), ((2, 4, 6, 4, 1), 20, (2, 3, 3, 1)),
          ((2, 21, 21, 1), 20, (2, 5, 5, 1))]
MULTI = [((2, 9, 3), 10, "cauchy"), ((3, 10, 6, 4), 11, "pseudo_huber"),
         ((4, 20, 10, 5), 21, "blake_zisserman")]


def single_output(args, base, stat, timer):
    print("1. one linear output, squared loss (sum), sigmoid, with biases")
    cols = ["vg", "vg base", "H", "H base", "H Obj", "H generic"]
    head = f"{'network':<12}{'P':>5} |" + "".join(f"{c:>10}" for c in cols) + \
        f" |{'vg/base':>8}{'H/base':>8}{'Obj/H':>8}{'gen/H':>8}"
    print(head)
    print("-" * len(head))
    for widths, N, teacher in SINGLE:
        net, X, y, theta = problem(widths, N, teacher, True)
        sq = SquaredLoss(net, X, y, "sum")
        obj = Objective(net, X, y)
        gen = Objective(net, X, y)
        gen._fast = None
        methods = {"vg": lambda: (sq.__dict__.pop("_last_pass", None), sq.value_and_gradient(theta)),
                   "H": lambda: sq.hessian(theta), "H Obj": lambda: obj.hessian(theta),
                   "H generic": lambda: gen.hessian(theta)}
        if base:
            sq_b = base.SquaredLoss(base.Network(widths, "sigmoid", biases=True), X, y, "sum")
            methods["vg base"] = lambda: (sq_b.__dict__.pop("_last_pass", None),
                                          sq_b.value_and_gradient(theta))
            methods["H base"] = lambda: sq_b.hessian(theta)
        H = sq.hessian(theta)
        scale = max(1.0, np.abs(H).max())
        for name in ("H Obj", "H generic") + (("H base",) if base else ()):
            assert np.abs(methods[name]() - H).max() <= 1e-10 * scale, name
        t = {k: stat(v) for k, v in time_methods(methods, args.repeat, args.min_time, timer).items()}
        cell = lambda c: f"{1e3 * t[c]:>10.3f}" if c in t else f"{'-':>10}"  # noqa: E731
        ratio = lambda a, b: f"{t[a] / t[b]:>8.2f}" if a in t and b in t else f"{'-':>8}"  # noqa: E731
        print(f"{'-'.join(map(str, widths)):<12}{net.n_params:>5} |" + "".join(cell(c) for c in cols)
              + f" |{ratio('vg', 'vg base')}{ratio('H', 'H base')}{ratio('H Obj', 'H')}"
              + f"{ratio('H generic', 'H')}")


def multi_output(args, stat, timer):
    print("\n2. m outputs, sigmoid output activation, tanh hidden, robust losses")
    cols = ["grad", "H", "FD"]
    head = f"{'network':<12}{'loss':<16}{'P':>5} |" + "".join(f"{c:>10}" for c in cols) + \
        f" |{'FD/H':>8}{'H/grad':>8}"
    print(head)
    print("-" * len(head))
    for widths, N, loss in MULTI:
        rng = np.random.default_rng(0)
        net = Network(widths, "tanh", output_activation="sigmoid")
        X = rng.uniform(-1, 1, (N, widths[0]))
        Y = rng.uniform(0.1, 0.9, (N, widths[-1]))
        obj = Objective(net, X, Y, loss=loss)
        theta = net.init_params(rng)
        H = obj.hessian(theta)
        assert np.abs(fd_hessian(obj.gradient, theta) - H).max() <= 1e-5 * max(1.0, np.abs(H).max())
        methods = {"grad": lambda: obj.gradient(theta), "H": lambda: obj.hessian(theta),
                   "FD": lambda: fd_hessian(obj.gradient, theta)}
        t = {k: stat(v) for k, v in time_methods(methods, args.repeat, args.min_time, timer).items()}
        print(f"{'-'.join(map(str, widths)):<12}{loss:<16}{net.n_params:>5} |"
              + "".join(f"{1e3 * t[c]:>10.3f}" for c in cols)
              + f" |{t['FD'] / t['H']:>8.1f}{t['H'] / t['grad']:>8.1f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--min-time", type=float, default=0.01)
    parser.add_argument("--stat", choices=["min", "median"], default="min")
    parser.add_argument("--baseline", metavar="REV",
                        help="also time SquaredLoss of git revision REV (e.g. 691aea0)")
    args = parser.parse_args(argv)
    stat = min if args.stat == "min" else statistics.median
    timer = time.process_time
    print(f"CPU: {cpu_model()}; numpy BLAS threads: {blas_threads()}; CPU ms per call, "
          f"{args.stat} of {args.repeat} repeats")
    tmp = tempfile.mkdtemp(prefix="lossland-baseline-") if args.baseline else None
    try:
        base = load_baseline(args.baseline, tmp) if args.baseline else None
        if base:
            print(f"base = git revision {args.baseline}")
        single_output(args, base, stat, timer)
        multi_output(args, stat, timer)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
