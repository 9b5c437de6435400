"""Exact Hessians of the book's networks: lossland against finite differences and jax.

Times, in one process and side by side, for the network sizes of the papers'
experiments (sigmoid, no biases as in the papers; also with biases):

* ``lossland``: :meth:`lossland.SquaredLoss.hessian`: the closed form
  2c (J^T J + sum r Hess f) for one hidden layer, second-order backpropagation
  (Pearlmutter's R-operator, one layer of parameters at a time) otherwise;
* ``hvp(I)``: :meth:`lossland.SquaredLoss.hvp` with the P unit vectors, the
  R-operator along all P directions at once (how ``hessian`` worked before);
  like ``grad``, at a theta whose forward pass the objective has not cached;
* ``FD``: :func:`lossland.derivatives.fd_hessian`, central differences of the
  exact gradient (2P gradient evaluations);
* ``jax``: ``jax.jit(jax.hessian(loss))`` of the same loss written in
  ``jax.numpy``, in float64, compiled and warmed up before timing. Only when
  ``import jax`` works: jax is not a requirement of the book. Install it with
  ``.venv/bin/pip install jax``.
* ``base``: with ``--baseline REV`` (``make bench`` uses 2aa92e6), the
  ``SquaredLoss.hessian`` of the package as it was at git revision REV:
  ``git archive`` extracts that revision's ``lossland/`` into a temporary
  directory, imported in this process under another name, and timed in turns
  with the others.

numpy's BLAS runs on one thread unless ``OPENBLAS_NUM_THREADS`` is set: on a
machine shared with other work, multithreaded OpenBLAS stalls now and then for
tens of milliseconds in one matrix product (2-21-21-1's largest product takes
0.08 ms, or 8-44 ms in one call out of ten, with 2 threads on 2 busy cores).
``OPENBLAS_NUM_THREADS=2 .venv/bin/python benchmarks/hessian.py`` measures
with two threads. jax keeps its own thread pool.

Every method is timed ``--repeat`` times (each repeat runs the method
``number`` times, ``number`` chosen so that a repeat lasts about
``--min-time`` seconds); the methods take turns, so that they see the same load.
Times are the CPU time of the process (all its threads): unlike wall-clock
time (``--timer wall``), it hardly changes when other programs share the cores
(with several BLAS threads their busy-waiting counts too: use wall time then).
The table shows the best repeat (``--stat min``, as :mod:`timeit` recommends)
or the median (``--stat median``), per call, and the largest absolute
difference of every Hessian from lossland's. Nothing here is a timed
assertion; the differences are asserted to be at round-off (jax, hvp) or
finite-difference (FD) level.

Run from the repository root: ``make bench`` or
``.venv/bin/python benchmarks/hessian.py [--repeat 11] [--no-jax] [--baseline REV]``.
"""
from __future__ import annotations

import argparse
import ctypes
import glob
import importlib.util
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import timeit

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")    # before numpy is imported: see above

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import lossland  # noqa: E402
from lossland import Network, SquaredLoss  # noqa: E402
from lossland.datasets import teacher_student  # noqa: E402
from lossland.derivatives import fd_hessian  # noqa: E402

# (student widths, N, teacher widths): a 1-2-1 network of the one-hidden-layer
# chapters; the 2-4-6-4-1 student of a 2-8-12-8-1 teacher on 500 points (000
# Section V-E, 001 Section 5.5); the 2-21-21-1 network reached from 2-1-1-1 on 20
# points of a 2-5-5-1 teacher (001 Section 5.4).
SIZES = [((1, 2, 1), 10, (1, 3, 1)), ((2, 4, 6, 4, 1), 500, (2, 8, 12, 8, 1)),
         ((2, 21, 21, 1), 20, (2, 5, 5, 1))]
JAX_HINT = ("jax is not installed: `.venv/bin/pip install jax` adds the jax.hessian column "
            "(jax is not a requirement of the book)")


def load_baseline(rev: str, tmp: str):
    """The ``lossland`` package of git revision ``rev``, imported as ``lossland_<rev>``.

    ``git archive`` (read-only for the repository: no worktree, no checkout)
    writes that revision's ``lossland/`` under ``tmp``; the package imports its
    modules relatively, so it loads beside the current one.
    """
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    archive = subprocess.run(["git", "-C", root, "archive", rev, "lossland"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
    name = "lossland_" + "".join(ch if ch.isalnum() else "_" for ch in rev)
    path = os.path.join(tmp, "lossland")
    spec = importlib.util.spec_from_file_location(name, os.path.join(path, "__init__.py"),
                                                  submodule_search_locations=[path])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_jax():
    """The jax module in float64 on the CPU, or None when it cannot be imported."""
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    try:
        import jax
    except Exception:  # ImportError, or a broken installation
        return None
    jax.config.update("jax_enable_x64", True)
    return jax


def blas_threads() -> str:
    """Threads of numpy's BLAS: threadpoolctl if present, else the bundled OpenBLAS."""
    try:
        from threadpoolctl import threadpool_info

        return ", ".join(f"{d['internal_api']} {d['num_threads']}" for d in threadpool_info()
                         if d.get("user_api") == "blas") or "unknown"
    except ImportError:
        pass
    libdir = os.path.join(os.path.dirname(np.__file__) + ".libs", "*openblas*")
    for path in glob.glob(libdir):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
                     "openblas_get_num_threads"):
            if hasattr(lib, name):
                return f"OpenBLAS {getattr(lib, name)()}"
    return "unknown"


def cpu_model() -> str:
    """The CPU's model name (Linux), else the machine type."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def jax_loss(jax, net: Network, X, y, c: float):
    """L(theta) = c sum (f(x) - y)^2 in jax.numpy, with lossland's parameter layout."""
    jnp = jax.numpy
    X, y = jnp.asarray(X), jnp.asarray(y)
    L = net.depth

    def loss(theta):
        a = X
        for l in range(1, L + 1):
            s = net.weight_slice(l)
            z = a @ theta[s].reshape(net.widths[l], net.widths[l - 1]).T
            if net.biases:
                s = net.bias_slice(l)
                z = z + theta[s]
            a = jax.nn.sigmoid(z) if l < L else z
        r = a[:, 0] - y
        return c * jnp.sum(r * r)

    return loss


def problem(widths, n_samples, teacher, biases, seed=0):
    """Teacher-student data (inputs uniform in [-1, 1)^n_0) and random student parameters."""
    rng = np.random.default_rng(seed)
    net = Network(widths, "sigmoid", biases=biases)
    X, y, _ = teacher_student(net.with_widths(teacher), n_samples, rng)
    return net, X, y, net.init_params(rng)


def time_methods(methods: dict, repeat: int, min_time: float, timer=time.perf_counter) -> dict:
    """Seconds per call of every method: all repeats, methods taking turns."""
    number = {}
    for name, fn in methods.items():
        fn()                                     # warm-up (and jax compilation)
        n, t = 1, 0.0
        while True:                              # timeit's autorange, with a shorter target
            t = timeit.Timer(fn, timer=timer).timeit(number=n)
            if t >= min_time:
                break
            n = max(n + 1, int(n * min(10.0, 1.2 * min_time / max(t, 1e-9))))
        number[name] = n
    times = {name: [] for name in methods}
    for _ in range(repeat):
        for name, fn in methods.items():
            times[name].append(timeit.Timer(fn, timer=timer).timeit(number=number[name]) / number[name])
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=11, help="repeats per method (default 11)")
    parser.add_argument("--min-time", type=float, default=0.01,
                        help="seconds per repeat, at least (default 0.01)")
    parser.add_argument("--stat", choices=["min", "median"], default="min",
                        help="best repeat or median repeat (default min)")
    parser.add_argument("--timer", choices=["cpu", "wall"], default="cpu",
                        help="CPU time of the process, all threads (default; steady on a busy "
                             "machine) or wall-clock time")
    parser.add_argument("--no-jax", action="store_true", help="skip jax even if installed")
    parser.add_argument("--no-biases", action="store_true", help="only the networks without biases")
    parser.add_argument("--baseline", metavar="REV",
                        help="also time SquaredLoss.hessian of git revision REV (e.g. 2aa92e6)")
    args = parser.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="lossland-baseline-") if args.baseline else None
    try:
        base = load_baseline(args.baseline, tmp) if args.baseline else None
        run(args, base)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def run(args, base):
    stat = min if args.stat == "min" else statistics.median
    timer = time.perf_counter if args.timer == "wall" else time.process_time

    jax = None if args.no_jax else load_jax()
    print(f"lossland {lossland.__version__}, numpy {np.__version__}, python {platform.python_version()}")
    print(f"jax {jax.__version__} (float64, devices {jax.devices()})" if jax else
          ("jax skipped (--no-jax)" if args.no_jax else JAX_HINT))
    if base:
        print(f"base = SquaredLoss.hessian of git revision {args.baseline} ({base.__name__})")
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    env = {k: v for k, v in os.environ.items() if k.endswith("_NUM_THREADS") or k == "OPENBLAS_CORETYPE"}
    print(f"CPU: {cpu_model()}, {cpus} usable cores; numpy BLAS threads: {blas_threads()}; "
          f"environment: {env or 'no thread settings'}")
    print(f"{args.timer} times in ms per call ({args.stat} of {args.repeat} repeats): "
          "grad = one exact gradient,"
          " then one Hessian by each method;\nX/ll = time of X / time of lossland; dH X = max |H_X - H|"
          " against lossland's H; H-H^T = max |H - H^T| of lossland's H\n")

    cols = ["lossland", "hvp(I)", "FD"] + (["jax"] if jax else []) + (["base"] if base else [])
    head = (f"{'network':<10}{'N':>4} {'bias':<4}{'P':>4} |{'grad':>7}" + "".join(f"{c:>9}" for c in cols)
            + " |" + "".join(f"{c + '/ll':>10}" for c in cols[1:])
            + " |" + "".join(f"{'dH ' + c:>10}" for c in cols[1:]) + f" |{'H-H^T':>7}")
    print(head)
    print("-" * len(head))
    for biases in ([False] if args.no_biases else [False, True]):
        for widths, n_samples, teacher in SIZES:
            net, X, y, theta = problem(widths, n_samples, teacher, biases)
            obj = SquaredLoss(net, X, y)
            P = net.n_params
            eye = np.eye(P)
            methods = {
                "lossland": lambda: obj.hessian(theta),
                "hvp(I)": lambda: (obj.__dict__.pop("_last_pass", None), obj.hvp(theta, eye))[1],
                "FD": lambda: fd_hessian(obj.gradient, theta),
            }
            if jax:
                hess = jax.jit(jax.hessian(jax_loss(jax, net, X, y, obj.c)))
                theta_j = jax.numpy.asarray(theta)
                methods["jax"] = lambda: hess(theta_j).block_until_ready()
            if base:
                net_b = base.Network(net.widths, "sigmoid", biases=net.biases)
                obj_b = base.SquaredLoss(net_b, X, y)
                methods["base"] = lambda: obj_b.hessian(theta)
            H = obj.hessian(theta)
            scale = max(1.0, np.abs(H).max())
            diffs = {name: float(np.abs(np.asarray(fn()) - H).max()) for name, fn in methods.items()}
            # correctness, not speed: round-off for the exact methods, O(h^2) for FD
            assert diffs["hvp(I)"] <= 1e-11 * scale, diffs
            assert diffs["FD"] <= 1e-5 * scale, diffs
            for name in ("jax", "base"):
                if name in diffs:
                    assert diffs[name] <= 1e-11 * scale, diffs
            asym = float(np.abs(H - H.T).max())
            assert asym <= 1e-12 * scale, asym
            # for scale, FD costs 2P gradients: each at a new theta, so no cached forward pass
            methods["grad"] = lambda: (obj.__dict__.pop("_last_pass", None), obj.gradient(theta))
            runs = time_methods(methods, args.repeat, args.min_time, timer)
            times = {name: stat(ts) for name, ts in runs.items()}
            t0 = times["lossland"]
            print(f"{'-'.join(map(str, widths)):<10}{n_samples:>4} {'yes' if biases else 'no':<4}{P:>4} |"
                  + f"{1e3 * times['grad']:>7.3f}" + "".join(f"{1e3 * times[c]:>9.3f}" for c in cols)
                  + " |" + "".join(f"{times[c] / t0:>10.1f}" for c in cols[1:])
                  + " |" + "".join(f"{diffs[c]:>10.0e}" for c in cols[1:]) + f" |{asym:>7.0e}")
    if not jax and not args.no_jax:
        print(f"\n{JAX_HINT}")


if __name__ == "__main__":
    main()
