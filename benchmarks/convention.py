"""The loss-object calling convention against the old one: time per call and work per call.

lossland's functions that need data take the loss object first,
``f(objective, theta, ...)`` with ``objective = SquaredLoss(net, X, y)``;
before (git revision ``--baseline``, default 2aa92e6) they took
``(net, theta, X, y, ...)`` and built their own loss objects. This script
times, side by side and in turns, :func:`lossland.embedding.lemma1_hessian`,
``B_matrix``, ``D_matrix`` and ``descent_direction`` of both versions (the old
package is extracted with ``git archive`` and imported under another name, as
in ``benchmarks/hessian.py``), on the book's networks with teacher-student data
(sigmoid, no biases as in the papers; ``--biases`` adds them), at neuron 0
of hidden layer 1 with lambda = 0.3:

* ``old``: the old functions, ``(net, theta, X, y, layer, r, ...)``;
* ``new``: the new ones with one objective made beforehand and the same theta
  every call, as a notebook uses them (the objective's forward pass at that
  theta is cached, see ``SquaredLoss.forward``);
* ``new cold``: the same with the cache emptied before every call: one call at
  a theta never seen before.

Then it counts, for one ``lemma1_hessian`` call of each version (cold), how
often ``theta`` is validated (``Network.check_params``, and the new fast check
``SquaredLoss._size``), how many forward passes run (``Network.forward``,
and the passes inside the Hessian: ``SquaredLoss._layer_passes`` /
``_hessian_one_hidden``) and how many ``SquaredLoss`` objects are made, by
wrapping those methods in each package. Nothing here is a timed assertion;
the results of both versions are asserted to agree to round-off.

Run from the repository root: ``make bench`` or
``.venv/bin/python benchmarks/convention.py [--repeat 7] [--baseline REV]``.
"""
from __future__ import annotations

import argparse
import functools
import importlib
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")    # before numpy is imported (see hessian.py)

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import lossland  # noqa: E402
from lossland import Network, SquaredLoss, embedding  # noqa: E402
from lossland.datasets import teacher_student  # noqa: E402

from hessian import SIZES, blas_threads, cpu_model, load_baseline, time_methods  # noqa: E402

LAYER, R, LAM = 1, 0, 0.3
FUNCTIONS = ["lemma1_hessian", "B_matrix", "D_matrix", "descent_direction"]


def calls(base, widths, n_samples, teacher, biases, seed=0):
    """{function: {"old": fn, "new": fn, "new cold": fn}} for one problem, its objective and theta."""
    rng = np.random.default_rng(seed)
    net = Network(widths, "sigmoid", biases=biases)
    X, y, _ = teacher_student(net.with_widths(teacher), n_samples, rng)
    theta = net.init_params(rng)
    obj = SquaredLoss(net, X, y)
    old_net = base.Network(widths, "sigmoid", biases=biases)
    emb, old = embedding, importlib.import_module(base.__name__ + ".embedding")

    def cold(fn):
        def run():
            obj.__dict__.pop("_last_pass", None)            # a theta the objective has not seen
            return fn()
        return run

    new = {
        "lemma1_hessian": lambda: emb.lemma1_hessian(obj, theta, LAYER, R, LAM),
        "B_matrix": lambda: emb.B_matrix(obj, theta, LAYER, R),
        "D_matrix": lambda: emb.D_matrix(obj, theta, LAYER, R),
        "descent_direction": lambda: emb.descent_direction(obj, theta, LAYER, R, LAM),
    }
    before = {
        "lemma1_hessian": lambda: old.lemma1_hessian(old_net, theta, X, y, LAYER, R, LAM),
        "B_matrix": lambda: old.B_matrix(old_net, theta, X, y, LAYER, R),
        "D_matrix": lambda: old.D_matrix(old_net, theta, X, y, LAYER, R),
        "descent_direction": lambda: old.descent_direction(old_net, theta, X, y, LAYER, R, LAM),
    }
    for name in FUNCTIONS:                                   # same results, to round-off
        a, b = first_array(new[name]()), first_array(before[name]())
        assert a.shape == b.shape and np.abs(a - b).max() <= 1e-11 * max(1.0, np.abs(b).max()), name
    return {name: {"old": before[name], "new": new[name], "new cold": cold(new[name])}
            for name in FUNCTIONS}, obj, theta


def first_array(result):
    """The matrix or vector of a result (lemma1_hessian and descent_direction return tuples)."""
    return np.asarray(result[0] if isinstance(result, tuple) else result)


class Counter:
    """Counts calls of methods while active, by replacing them with counting wrappers.

    A call counts when ``only(args)`` is true (default: every call).
    """

    def __init__(self, targets, only=None):
        self.targets = [(cls, name) for cls, name in targets if name in cls.__dict__]
        self.only = only or {}
        self.counts = {}

    def __enter__(self):
        self.saved = []
        for cls, name in self.targets:
            original = cls.__dict__[name]
            key = f"{cls.__name__}.{name}"
            self.counts[key] = 0

            def wrapper(*args, _original=original, _key=key, _only=self.only.get(name), **kwargs):
                if _only is None or _only(args):
                    self.counts[_key] += 1
                return _original(*args, **kwargs)

            self.saved.append((cls, name, original))
            setattr(cls, name, functools.wraps(original)(wrapper))
        return self

    def __exit__(self, *exc):
        for cls, name, original in self.saved:
            setattr(cls, name, original)


def count_work(package, fn, theta):
    """Calls of the validation, forward-pass and constructor methods of ``package`` during fn().

    ``check_params`` counts only when called on ``theta`` (by value): it also
    validates index vectors (``small_to_big_indices`` unflattens an arange).
    """
    net_cls = importlib.import_module(package.__name__ + ".network").Network
    loss_cls = importlib.import_module(package.__name__ + ".derivatives").SquaredLoss
    targets = [(net_cls, "check_params"), (loss_cls, "_size"), (net_cls, "forward"),
               (loss_cls, "_layer_passes"), (loss_cls, "_hessian_one_hidden"), (loss_cls, "__init__")]
    def on_theta(args):
        arg = np.asarray(args[1])
        return arg.shape == theta.shape and np.array_equal(arg, theta)

    with Counter(targets, only={"check_params": on_theta}) as counter:
        fn()
    c = counter.counts
    return {"theta checks": c.get("Network.check_params", 0) + c.get("SquaredLoss._size", 0),
            "forward passes": c.get("Network.forward", 0) + c.get("SquaredLoss._layer_passes", 0)
            + c.get("SquaredLoss._hessian_one_hidden", 0),
            "SquaredLoss made": c.get("SquaredLoss.__init__", 0), "detail": c}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="repeats per method (default 7)")
    parser.add_argument("--min-time", type=float, default=0.01,
                        help="seconds per repeat, at least (default 0.01)")
    parser.add_argument("--stat", choices=["min", "median"], default="min")
    parser.add_argument("--timer", choices=["cpu", "wall"], default="cpu")
    parser.add_argument("--biases", action="store_true", help="networks with biases")
    parser.add_argument("--baseline", metavar="REV", default="2aa92e6",
                        help="git revision with the old convention (default 2aa92e6)")
    args = parser.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="lossland-baseline-")
    try:
        run(args, load_baseline(args.baseline, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args, base):
    stat = min if args.stat == "min" else statistics.median
    timer = time.perf_counter if args.timer == "wall" else time.process_time
    print(f"lossland {lossland.__version__} against git revision {args.baseline}, numpy {np.__version__}, "
          f"python {platform.python_version()}")
    print(f"CPU: {cpu_model()}; numpy BLAS threads: {blas_threads()}")
    print(f"{args.timer} times in ms per call ({args.stat} of {args.repeat} repeats); layer {LAYER}, "
          f"r = {R}, lambda = {LAM}; sigmoid, biases {'on' if args.biases else 'off'}\n")
    cols = ["old", "new", "new cold"]
    head = (f"{'network':<10}{'N':>4}{'P':>5}  {'function':<18}" + "".join(f"{c:>10}" for c in cols)
            + f"{'old/new':>9}{'old/cold':>9}")
    print(head)
    print("-" * len(head))
    counted = None
    for widths, n_samples, teacher in SIZES:
        fns, obj, theta = calls(base, widths, n_samples, teacher, args.biases)
        for name in FUNCTIONS:
            runs = time_methods(fns[name], args.repeat, args.min_time, timer)
            t = {c: stat(runs[c]) for c in cols}
            print(f"{'-'.join(map(str, widths)):<10}{n_samples:>4}{obj.net.n_params:>5}  {name:<18}"
                  + "".join(f"{1e3 * t[c]:>10.3f}" for c in cols)
                  + f"{t['old'] / t['new']:>9.1f}{t['old'] / t['new cold']:>9.1f}")
        if counted is None:
            counted = (widths, n_samples,
                       count_work(base, fns["lemma1_hessian"]["old"], theta),
                       count_work(lossland, fns["lemma1_hessian"]["new cold"], theta))
    widths, n_samples, old, new = counted
    print(f"\nWork in one lemma1_hessian call ({'-'.join(map(str, widths))}, N = {n_samples}; "
          "new: cold cache, objective made by the caller beforehand)")
    for key in ("theta checks", "forward passes", "SquaredLoss made"):
        print(f"  {key:<18} old {old[key]:>3}   new {new[key]:>3}")
    print(f"  calls, old: {old['detail']}\n  calls, new: {new['detail']}")


if __name__ == "__main__":
    main()
