"""lossland.runner: one runner for long experiments (joblib), and a cache keyed by what made it."""
import json
import math
import os
import warnings
from functools import partial

import joblib
import numpy as np
import pytest

from lossland import __version__
from lossland.runner import CacheError, Cached, CacheVersionWarning, load_cached, run, save_cached

REGEN = "python -m lossland.somewhere p0 --seeds 3"


def seeded_task(seed, n=200):
    """A task whose result depends only on its own arguments: a seeded draw and a BLAS product."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n))
    return float(np.linalg.norm(A @ A.T)), os.getpid()


def fail_on_three(x):
    if x == 3:
        raise RuntimeError("task 3 failed")
    return x


# ------------------------------------------------------------------ runner
def test_run_returns_results_in_task_order_independent_of_jobs():
    tasks = [5, 1, 4, 1, 3, 9, 2, 6]
    expected = [seeded_task(s)[0] for s in tasks]                       # plain loop, this process
    one = run(seeded_task, tasks, jobs=1, progress=False)
    two = run(seeded_task, tasks, jobs=2, progress=False)
    assert [r[0] for r in one] == expected
    # workers may run BLAS with another thread count (joblib limits them), which rounds the
    # product differently: equal to the last bits, not bit for bit; the order is what is tested
    assert np.allclose([r[0] for r in two], expected, rtol=1e-13, atol=0)
    assert len(set(expected)) == len(set(tasks))                       # distinct: order is visible
    assert {pid for _, pid in one} == {os.getpid()}                    # jobs=1: no worker processes
    assert os.getpid() not in {pid for _, pid in two}                   # jobs=2: computed in workers


def test_run_accepts_partials_and_an_explicit_or_configured_backend():
    f = partial(math.pow, 2.0)
    assert run(f, range(5), jobs=2, backend="loky", progress=False) == [2.0 ** k for k in range(5)]
    with joblib.parallel_config(backend="threading"):                  # what a Dask/Ray switch looks like
        assert run(f, range(5), jobs=2, progress=False) == [2.0 ** k for k in range(5)]
    assert run(f, [], progress=False) == []


def test_run_progress_bar_counts_every_task(capsys):
    run(math.sqrt, range(7), jobs=1, progress=True, desc="squares")
    err = capsys.readouterr().err
    assert "squares" in err and "7/7" in err
    run(math.sqrt, range(3), progress=False)
    assert capsys.readouterr().err == ""


def test_run_propagates_a_task_error():
    with pytest.raises(RuntimeError, match="task 3"):
        run(fail_on_three, range(5), jobs=1, progress=False)
    with pytest.raises(RuntimeError, match="task 3"):
        run(fail_on_three, range(5), jobs=2, progress=False)


def test_run_validation():
    with pytest.raises(TypeError, match="fn"):
        run("sqrt", [1])
    with pytest.raises(TypeError, match="tasks"):
        run(math.sqrt, 3)
    with pytest.raises(ValueError, match="jobs"):
        run(math.sqrt, [1], jobs=0)
    with pytest.raises(TypeError, match="jobs"):
        run(math.sqrt, [1], jobs=1.5)
    with pytest.raises(TypeError, match="progress"):
        run(math.sqrt, [1], progress="yes")
    with pytest.raises(TypeError, match="backend"):
        run(math.sqrt, [1], backend=2)


# ------------------------------------------------------------------- cache
PARAMS = {"teacher": (2, 3, 1), "n_samples": 30, "gtol": 1e-10, "method": "BFGS"}


@pytest.fixture
def cache(tmp_path):
    arrays = {"seed": np.arange(3), "loss": np.array([0.5, 0.25, 0.125]),
              "theta": np.random.default_rng(0).standard_normal((3, 4)), "ok": np.array([True, False, True])}
    npz, js = save_cached(tmp_path, "toy", arrays, PARAMS, regenerate=REGEN, meta={"timing": {"wall": 1.0}})
    return tmp_path, arrays, npz, js


def test_save_and_load_round_trip(cache):
    d, arrays, npz, js = cache
    assert npz == d / "toy.npz" and js == d / "toy.json"
    back = load_cached(d, "toy", params=PARAMS)
    assert isinstance(back, Cached) and set(back.arrays) == set(arrays)
    assert all(np.array_equal(back.arrays[k], a) and back.arrays[k].dtype == a.dtype for k, a in arrays.items())
    rec = json.loads(js.read_text())
    assert rec["parameters"] == {"teacher": [2, 3, 1], "n_samples": 30, "gtol": 1e-10, "method": "BFGS"}
    assert rec["regenerate"] == REGEN and rec["timing"] == {"wall": 1.0}
    assert set(rec["versions"]) == {"python", "numpy", "scipy", "lossland"}
    assert rec["versions"]["numpy"] == np.__version__ and rec["versions"]["lossland"] == __version__
    assert rec["arrays"]["theta"] == "float64 (3, 4)"
    assert back.parameters == rec["parameters"]
    assert load_cached(d, "toy").arrays.keys() == arrays.keys()         # params=None: no comparison
    assert not list(d.glob(".*tmp"))                                    # no temporary files left


def test_other_parameters_are_refused_naming_each_key(cache):
    d = cache[0]
    wanted = {**PARAMS, "n_samples": 40, "gtol": 1e-8}
    with pytest.raises(CacheError) as err:
        load_cached(d, "toy", params=wanted)
    msg = str(err.value)
    assert isinstance(err.value, ValueError)
    assert "n_samples: cached 30, requested 40" in msg and "gtol: cached 1e-10, requested 1e-08" in msg
    assert "teacher" not in msg and "toy.json" in msg and REGEN in msg
    with pytest.raises(CacheError, match="extra: cached '<absent>', requested 1"):
        load_cached(d, "toy", params={**PARAMS, "extra": 1})
    with pytest.raises(CacheError, match="method: cached 'BFGS', requested '<absent>'"):
        load_cached(d, "toy", params={k: v for k, v in PARAMS.items() if k != "method"})
    load_cached(d, "toy", params={**PARAMS, "n_samples": 40}, ignore=("n_samples",))   # ignored on purpose


def _edit_record(js, **changes):
    rec = json.loads(js.read_text())
    for k, v in changes.items():
        rec[k] = {**rec[k], **v}
    js.write_text(json.dumps(rec))


def test_another_lossland_version_is_refused_other_numpy_scipy_warn(cache):
    d, _, _, js = cache
    _edit_record(js, versions={"numpy": "1.0.0", "scipy": "0.9"})
    with pytest.warns(CacheVersionWarning, match="numpy 1.0.0.*scipy 0.9"):
        load_cached(d, "toy", params=PARAMS)
    _edit_record(js, versions={"python": "2.7.18", "numpy": np.__version__, "scipy": __import__("scipy").__version__})
    with warnings.catch_warnings():
        warnings.simplefilter("error")                                   # python is recorded, not compared
        load_cached(d, "toy", params=PARAMS)
    _edit_record(js, versions={"lossland": "0.0.1"})
    with pytest.raises(CacheError, match=r"made by lossland 0\.0\.1, this is lossland"):
        load_cached(d, "toy", params=PARAMS)


def test_missing_files_are_named_with_the_regeneration_command(cache):
    d, _, npz, js = cache
    with pytest.raises(CacheError, match=f"nothing.npz.*missing.*{REGEN}"):
        load_cached(d, "nothing", regenerate=REGEN)
    npz.unlink()
    with pytest.raises(CacheError, match=f"toy.npz: missing.*{REGEN}"):     # the record's own command
        load_cached(d, "toy")
    js.unlink()
    with pytest.raises(CacheError, match="missing"):
        load_cached(d, "toy")


def test_truncated_npz_is_refused(cache):
    d, _, npz, _ = cache
    data = npz.read_bytes()
    npz.write_bytes(data[: len(data) // 2])
    with pytest.raises(CacheError, match=f"toy.npz: does not match its JSON record.*{REGEN}"):
        load_cached(d, "toy", params=PARAMS)


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_unreadable_npz_without_checksum_is_a_cache_error(cache, damage):
    d, _, npz, js = cache
    rec = json.loads(js.read_text())
    del rec["npz_sha256"]                                              # an older record: only np.load can tell
    js.write_text(json.dumps(rec))
    data = npz.read_bytes()
    npz.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"not a zip file" * 10)
    with pytest.raises(CacheError, match=f"toy.npz: unreadable.*{REGEN}") as err:
        load_cached(d, "toy")
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_corrupt_json_is_refused(cache):
    d, _, _, js = cache
    text = js.read_text()
    js.write_text(text[: len(text) // 2])
    with pytest.raises(CacheError, match=f"toy.json: not valid JSON.*{REGEN}"):
        load_cached(d, "toy", regenerate=REGEN)
    js.write_text("[1, 2]")
    with pytest.raises(CacheError, match="not a cache record"):
        load_cached(d, "toy", regenerate=REGEN)
    js.write_text(json.dumps({"parameters": {}, "versions": {}}))
    with pytest.raises(CacheError, match="no 'arrays' object"):
        load_cached(d, "toy", regenerate=REGEN)


def test_missing_or_reshaped_array_is_refused(cache):
    d, arrays, npz, js = cache
    for k, bad in (("loss", None), ("theta", arrays["theta"][:, :3])):
        changed = {n: a for n, a in arrays.items() if n != k}
        if bad is not None:
            changed[k] = bad
        np.savez_compressed(npz, **changed)
        rec = json.loads(js.read_text())
        rec.pop("npz_sha256", None)                                    # the record still lists the old array
        js.write_text(json.dumps(rec))
        msg = "array 'loss' is missing" if bad is None else r"array 'theta' is float64 \(3, 3\), the record says float64 \(3, 4\)"
        with pytest.raises(CacheError, match=msg):
            load_cached(d, "toy")


def test_save_validation(tmp_path):
    with pytest.raises(ValueError, match="regenerate"):
        save_cached(tmp_path, "x", {"a": np.ones(2)}, {}, regenerate="")
    with pytest.raises(TypeError, match="arrays"):
        save_cached(tmp_path, "x", {}, {}, regenerate=REGEN)
    with pytest.raises(TypeError, match="object"):
        save_cached(tmp_path, "x", {"a": np.array([{}, 1], dtype=object)}, {}, regenerate=REGEN)
    with pytest.raises(ValueError, match="name"):
        save_cached(tmp_path, "a/b", {"a": np.ones(2)}, {}, regenerate=REGEN)
    with pytest.raises(ValueError, match="parameters"):
        save_cached(tmp_path, "x", {"a": np.ones(2)}, {}, regenerate=REGEN, meta={"parameters": 1})
    with pytest.raises(TypeError, match="params"):
        load_cached(tmp_path, "x", params=[1])
