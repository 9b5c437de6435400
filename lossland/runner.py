"""One runner for the book's long experiments, and a cache keyed by what made it.

:func:`run` maps a function over a list of tasks with :mod:`joblib`: ``jobs=1``
runs them one after the other in this process, ``jobs=J`` in ``J`` worker
processes (joblib's ``loky`` backend, one BLAS thread per worker on a machine
with ``J`` cores), with a :mod:`tqdm` progress bar (``tqdm.auto``: a widget in
a notebook, text in a terminal). The results come back **in task order** and do
not depend on ``jobs`` or the backend: every task is computed alone, from its
own arguments (seeds included), never from a shared random state.

**On a cluster** the same call hands the tasks to Dask or Ray through joblib;
neither engine is a dependency of lossland::

    import joblib
    from dask.distributed import Client   # pip install "dask[distributed]"
    client = Client("tcp://scheduler:8786")   # or Client(): a local cluster
    with joblib.parallel_config(backend="dask"):
        results = run(fn, tasks, jobs=-1)

    import ray                                       # pip install ray
    from ray.util.joblib import register_ray
    register_ray()
    with joblib.parallel_config(backend="ray"):
        results = run(fn, tasks, jobs=-1)

(``backend="dask"`` or ``backend="ray"`` passed to :func:`run` does the same.)
``fn`` and the tasks must be picklable (module-level functions,
:func:`functools.partial` of them, plain data).

:func:`save_cached` writes a result as ``<name>.npz`` (the arrays) and
``<name>.json`` (the parameters that made it, the package versions, the
command that regenerates it, the arrays' dtypes and shapes and the npz file's
SHA-256). :func:`load_cached` reads it back and refuses, with a
:class:`CacheError` (a ``ValueError``) that names the file and gives the
regeneration command, a cache made with other parameters (each differing key,
cached vs requested value) or by another lossland version, and a missing,
truncated or corrupt file; other numpy or scipy versions only give a
:class:`CacheVersionWarning` (the requirements pin them; a rerun on other
versions is a new sample, not an error). The Python version is recorded, not
compared.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._validation import check_bool, check_callable, check_int, versions

__all__ = ["run", "save_cached", "load_cached", "Cached", "CacheError", "CacheVersionWarning"]


# ------------------------------------------------------------------ runner
def run(fn, tasks, *, jobs: int = 1, backend: str | None = None, progress: bool = True,
        desc: str | None = None) -> list:
    """``[fn(task) for task in tasks]``, over ``jobs`` processes, with a progress bar.

    ``jobs``: a positive number of workers, or ``-1`` for all the backend
    offers (every core with ``loky``, every worker of a Dask or Ray cluster).
    ``backend``: ``None`` (joblib's default ``loky``, or the backend of an
    enclosing ``joblib.parallel_config``), or a joblib backend name such as
    ``"loky"``, ``"dask"``, ``"ray"`` (see the module docstring).
    Results are in task order and do not depend on ``jobs`` or ``backend``.
    """
    import joblib
    from tqdm.auto import tqdm

    check_callable(fn, "fn")
    if isinstance(tasks, (str, bytes)) or not hasattr(tasks, "__iter__"):
        raise TypeError(f"tasks must be an iterable of task arguments, got {type(tasks).__name__}")
    tasks = list(tasks)
    jobs = check_int(jobs, "jobs")
    if jobs < 1 and jobs != -1:
        raise ValueError(f"jobs must be a positive integer or -1 (all workers), got {jobs}")
    if backend is not None and not isinstance(backend, str):
        raise TypeError(f"backend must be None or a joblib backend name, got {backend!r}")
    progress = check_bool(progress, "progress")
    if desc is not None and not isinstance(desc, str):
        raise TypeError(f"desc must be None or a str, got {desc!r}")
    if not tasks:
        return []
    # joblib yields the results in task order as they are ready; the bar counts them
    parallel = joblib.Parallel(n_jobs=jobs, backend=backend, return_as="generator")
    results = parallel(joblib.delayed(fn)(t) for t in tasks)
    return list(tqdm(results, total=len(tasks), desc=desc, disable=not progress))


# ------------------------------------------------------------------- cache
class CacheError(ValueError):
    """A cached result that cannot be used: missing, corrupt, or made by something else."""


class CacheVersionWarning(UserWarning):
    """A cached result made with other numpy or scipy versions than the ones installed."""


@dataclass
class Cached:
    """What :func:`load_cached` returns: the arrays and the JSON record."""

    arrays: dict
    record: dict = field(default_factory=dict)

    @property
    def parameters(self) -> dict:
        return self.record["parameters"]


def _paths(directory, name):
    if not isinstance(name, str) or not name or os.sep in name or name != name.strip():
        raise ValueError(f"name must be a plain file stem such as 'p11', got {name!r}")
    if not isinstance(directory, (str, os.PathLike)):
        raise TypeError(f"directory must be a path, got {type(directory).__name__}")
    d = Path(directory)
    return d / f"{name}.npz", d / f"{name}.json"


def _jsonable(value):
    """``value`` as it reads back from JSON (tuples become lists, numpy scalars numbers)."""
    return json.loads(json.dumps(value, default=_json_default))


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def _describe(a: np.ndarray) -> str:
    return f"{a.dtype} {tuple(int(n) for n in a.shape)}"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _atomic_write(path: Path, write):
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_cached(directory, name: str, arrays: dict, params: dict, *, regenerate: str,
                meta: dict | None = None) -> tuple[Path, Path]:
    """Write ``<name>.npz`` (compressed ``arrays``) and ``<name>.json`` (what made them).

    The JSON record holds ``parameters`` (``params``; compared on loading),
    ``versions`` (python, numpy, scipy, lossland), ``regenerate`` (the command
    that remakes the files), ``created``, ``arrays`` (dtype and shape of each
    array), ``npz_sha256`` and the entries of ``meta`` (timings, notes). Each
    file is written to a temporary name and renamed, the JSON last, so an
    interrupted run leaves no half-written cache.
    """
    npz, js = _paths(directory, name)
    if not isinstance(arrays, dict) or not arrays or not all(isinstance(k, str) for k in arrays):
        raise TypeError("arrays must be a non-empty dict of named numpy arrays")
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    if any(a.dtype.kind == "O" for a in arrays.values()):
        raise TypeError("arrays must not hold Python objects (object dtype); the cache loads without pickle")
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict, got {type(params).__name__}")
    if not isinstance(regenerate, str) or not regenerate.strip():
        raise ValueError("regenerate must be the command that remakes the cache, e.g. 'python -m ...'")
    meta = {} if meta is None else meta
    if not isinstance(meta, dict):
        raise TypeError(f"meta must be a dict, got {type(meta).__name__}")
    reserved = {"parameters", "versions", "regenerate", "created", "arrays", "npz_sha256"} & set(meta)
    if reserved:
        raise ValueError(f"meta must not set the cache's own keys {sorted(reserved)}")
    npz.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(npz, lambda fh: np.savez_compressed(fh, **arrays))
    record = {"regenerate": regenerate, "parameters": _jsonable(params), "versions": versions(),
              "created": time.strftime("%Y-%m-%d %H:%M:%S %Z"), **meta,
              "arrays": {k: _describe(a) for k, a in arrays.items()}, "npz_sha256": _sha256(npz)}
    text = json.dumps(record, indent=1, default=_json_default) + "\n"
    _atomic_write(js, lambda fh: fh.write(text.encode()))
    return npz, js


def _fail(path, problem, regenerate):
    how = f"regenerate it with `{regenerate}`" if regenerate else "regenerate it"
    return CacheError(f"cache file {path}: {problem}; {how}")


def _read_record(js, regenerate):
    try:
        record = json.loads(js.read_text())
    except FileNotFoundError:
        raise _fail(js, "missing", regenerate) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(js, f"not valid JSON ({exc})", regenerate) from None
    if not isinstance(record, dict):
        raise _fail(js, "not a cache record (expected a JSON object)", regenerate)
    for key, kind in (("parameters", dict), ("versions", dict), ("arrays", dict)):
        if not isinstance(record.get(key), kind):
            raise _fail(js, f"not a cache record (no '{key}' object)", regenerate)
    return record


def _read_arrays(npz, record, regenerate):
    if not npz.exists():
        raise _fail(npz, "missing", regenerate)
    expected = record.get("npz_sha256")
    if expected is not None and _sha256(npz) != expected:
        raise _fail(npz, "does not match its JSON record (SHA-256 differs: truncated, corrupt, "
                    "or written by another run)", regenerate)
    try:
        with np.load(npz, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}          # read everything now: a truncated
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError) as exc:  # member fails here
        raise _fail(npz, f"unreadable ({type(exc).__name__}: {exc})", regenerate) from None
    for k, desc in record["arrays"].items():
        if k not in arrays:
            raise _fail(npz, f"array '{k}' is missing", regenerate)
        if _describe(arrays[k]) != desc:
            raise _fail(npz, f"array '{k}' is {_describe(arrays[k])}, the record says {desc}", regenerate)
    extra = sorted(set(arrays) - set(record["arrays"]))
    if extra:
        raise _fail(npz, f"holds arrays its record does not list: {extra}", regenerate)
    return arrays


def load_cached(directory, name: str, *, params: dict | None = None, regenerate: str | None = None,
                ignore=()) -> Cached:
    """Read what :func:`save_cached` wrote, refusing anything not made by ``params`` and this lossland.

    ``params``: the parameters the caller needs; every key of ``params`` and
    of the cached parameters (except those in ``ignore``) must agree, else a
    :class:`CacheError` lists each differing key with the cached and the
    requested value. ``None`` skips the comparison. A cache made by another
    lossland version is refused; other numpy or scipy versions give a
    :class:`CacheVersionWarning`. Missing, truncated or corrupt files raise a
    :class:`CacheError` naming the file. Every message ends with
    ``regenerate`` (the caller's command; the JSON record's own
    ``regenerate`` entry is used if it is not given).
    """
    npz, js = _paths(directory, name)
    if params is not None and not isinstance(params, dict):
        raise TypeError(f"params must be a dict or None, got {type(params).__name__}")
    if regenerate is not None and not isinstance(regenerate, str):
        raise TypeError(f"regenerate must be a str or None, got {type(regenerate).__name__}")
    ignore = {ignore} if isinstance(ignore, str) else set(ignore)
    if not npz.exists() and not js.exists():
        raise _fail(f"{npz} (and {js.name})", "missing", regenerate)
    record = _read_record(js, regenerate)
    regenerate = regenerate or record.get("regenerate")
    if params is not None:
        cached, wanted = record["parameters"], _jsonable(params)
        diff = [f"{k}: cached {cached.get(k, '<absent>')!r}, requested {wanted.get(k, '<absent>')!r}"
                for k in sorted((set(cached) | set(wanted)) - ignore)
                if cached.get(k, "<absent>") != wanted.get(k, "<absent>")]
        if diff:
            raise _fail(js, "made with other parameters (" + "; ".join(diff) + ")", regenerate)
    now, then = versions(), record["versions"]
    if then.get("lossland") != now["lossland"]:
        raise _fail(js, f"made by lossland {then.get('lossland')}, this is lossland {now['lossland']}",
                    regenerate)
    other = {k: (then.get(k), now[k]) for k in ("numpy", "scipy") if then.get(k) != now[k]}
    if other:
        warnings.warn(f"{js} was made with " + ", ".join(f"{k} {a} (here {b})" for k, (a, b) in other.items())
                      + "; the requirements pin the versions it was made with", CacheVersionWarning,
                      stacklevel=2)
    return Cached(_read_arrays(npz, record, regenerate), record)
