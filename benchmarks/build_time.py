"""Time the whole book build and each notebook's execution, slowest first.

Usage (from the repository root, after `make install js`):

    .venv/bin/python benchmarks/build_time.py            # clean build, then the table
    .venv/bin/python benchmarks/build_time.py --no-build # table from the last build

The per-notebook times are myst-nb's own execution records, read from the
Sphinx environment of the build (``_build/.doctrees/environment.pickle``).
Target: the whole book from a clean checkout in under 15 minutes
on 2 cores.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import pickle
import shutil
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def build() -> float:
    for sub in ("html", ".doctrees", "jupyter_execute"):
        shutil.rmtree(ROOT / "_build" / sub, ignore_errors=True)
    jb = pathlib.Path(sys.executable).with_name("jupyter-book")
    t0 = time.perf_counter()
    subprocess.run([str(jb), "build", str(ROOT), "--warningiserror", "--nitpick", "--keep-going"],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def notebook_times():
    from myst_nb.sphinx_ import NbMetadataCollector

    sys.path.insert(0, str(ROOT / "book" / "_ext"))   # the book's local extensions, for unpickling
    with open(ROOT / "_build" / ".doctrees" / "environment.pickle", "rb") as fh:
        env = pickle.load(fh)
    rows = []
    for docname, data in NbMetadataCollector.get_doc_data(env).items():
        exec_data = data.get("exec_data")
        if exec_data:
            rows.append((exec_data.get("runtime") or 0.0, docname, exec_data.get("succeeded")))
    return sorted(rows, reverse=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-build", action="store_true", help="only print the table of the last build")
    args = ap.parse_args()
    print(f"cores: {os.cpu_count()}, python {sys.version.split()[0]}")
    if not args.no_build:
        total = build()
        print(f"clean build of the whole book: {total:.1f} s ({total / 60:.1f} min)")
    rows = notebook_times()
    print(f"{'notebook':60s} {'seconds':>8s}  ok")
    for runtime, doc, ok in rows:
        print(f"{doc:60s} {runtime:8.1f}  {'yes' if ok else 'NO'}")
    print(f"{'sum of notebook execution times':60s} {sum(r[0] for r in rows):8.1f}")


if __name__ == "__main__":
    main()
