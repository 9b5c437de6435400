"""R10 (002, Section 4.2, Table 1, eq. (8)): lossland.relu_regions.digits."""
from __future__ import annotations

import json

import numpy as np
import pytest

from lossland import Network
from lossland.derivatives import fd_gradient
from lossland.relu_regions.digits import (KINDS, PAPER_TABLE, DigitsObjective, R10Config, R10Result,
                                          compare_statistically, digits_data, format_table, load_r10,
                                          main, n_params, r10_command, r10_parameters, r10_problem,
                                          r10_task, random_masks, replay_r10, rep_streams, run_r10,
                                          save_r10, summary_table, train_adam)
from lossland.runner import CacheError

TINY = R10Config(ks=(1, 2), reps=3, epochs=4, eval_every=2, block=2, seed=7)


@pytest.fixture(scope="module")
def small():
    X, y = digits_data()
    rows = np.random.default_rng(0).choice(len(y), 30, replace=False)
    return X[rows], y[rows]


# ------------------------------------------------------------------ data
def test_digits_data():
    X, y = digits_data()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.array_equal(np.unique(y), np.arange(10))
    assert not X.flags.writeable and digits_data()[0] is X


def test_random_masks():
    A1, A2 = random_masks(1000, 3, 5)
    assert A1.shape == (1000, 6) and A2.shape == (1000, 3) and A1.dtype == bool
    assert abs(A1.mean() - 0.5) < 0.03 and abs(A2.mean() - 0.5) < 0.04
    B1, B2 = random_masks(1000, 3, np.random.default_rng(5))
    assert np.array_equal(A1, B1) and np.array_equal(A2, B2)
    with pytest.raises(TypeError, match="rng"):
        random_masks(10, 2, None)
    with pytest.raises(ValueError, match="k"):
        random_masks(10, 0, 1)


def test_n_params():
    for k in (1, 2, 16):
        assert n_params(k) == Network((64, 2 * k, k, 10), "relu").n_params
    assert n_params(16) == 2778


def test_paper_table():
    assert sorted(PAPER_TABLE) == [16, 32, 64, 128, 256]
    assert PAPER_TABLE[16] == ((82.59, 0.32), (98.10, 0.20))
    assert PAPER_TABLE[256][1] == (99.91, 0.03)


# ------------------------------------------------------------- objective
@pytest.mark.parametrize("kind", KINDS)
def test_gradient_matches_finite_differences(small, kind):
    X, y = small
    masks = random_masks(len(y), 2, 3) if kind == "random" else None
    obj = DigitsObjective(X, y, 2, masks)
    rng = np.random.default_rng(1)
    theta = obj.init_params(rng) + 0.1 * rng.standard_normal(obj.n_params)
    if kind == "rich":                       # keep away from the ReLU kinks
        fw = obj.forward(theta)
        assert min(np.abs(fw["z1"]).min(), np.abs(fw["z2"]).min()) > 1e-4
    g = obj.gradient(theta)
    fd = fd_gradient(obj.value, theta)
    assert np.abs(g - fd).max() < 1e-7 * max(1.0, np.abs(g).max())
    rows = np.arange(10)
    sub = DigitsObjective(X[rows], y[rows], 2, None if masks is None else (masks[0][rows], masks[1][rows]))
    assert np.allclose(obj.gradient(theta, rows=rows), sub.gradient(theta), rtol=0, atol=1e-14)


def test_rich_model_is_the_core_relu_network(small):
    X, y = small
    obj = DigitsObjective(X, y, 3)
    theta = obj.init_params(4)
    assert obj.kind == "rich" and obj.net == Network((64, 6, 3, 10), "relu")
    assert np.array_equal(obj.logits(theta), obj.net(theta, X))
    assert obj.net.forward(theta, X).act[2].shape == obj.hidden(theta).shape
    assert np.allclose(obj.net.forward(theta, X).act[2], obj.hidden(theta), rtol=0, atol=1e-14)


def test_eq8_with_the_real_pattern_is_the_relu_network(small):
    """002 eq. (8) with a_i = 1(z > 0) of the ReLU network: biases inside the masks, as eq. (2)."""
    X, y = small
    rich = DigitsObjective(X, y, 4)
    theta = rich.init_params(8)
    A1, A2 = rich.pattern(theta)
    assert A1.shape == (len(y), 8) and A2.shape == (len(y), 4) and A1.dtype == bool
    eq8 = DigitsObjective(X, y, 4, (A1, A2))
    assert eq8.kind == "random"
    assert np.array_equal(eq8.hidden(theta), rich.hidden(theta))
    assert np.array_equal(eq8.logits(theta), rich.logits(theta))
    assert eq8.value(theta) == rich.value(theta)
    assert np.allclose(eq8.gradient(theta), rich.gradient(theta), rtol=0, atol=1e-15)
    # eq. (8) by hand for one sample
    W, b = rich.net.unflatten(theta)
    i = 3
    h = A2[i] * (W[2] @ (A1[i] * (W[1] @ X[i] + b[1])) + b[2])
    assert np.allclose(h, eq8.hidden(theta)[i], rtol=0, atol=1e-14)


def test_random_model_ignores_the_relu(small):
    X, y = small
    masks = random_masks(len(y), 2, 0)
    obj = DigitsObjective(X, y, 2, masks)
    theta = obj.init_params(1)
    fw = obj.forward(theta)
    assert np.array_equal(fw["a1"], masks[0].astype(float))
    assert np.array_equal(fw["h1"], fw["z1"] * masks[0])
    assert (fw["h1"] < 0).any()                       # negative values pass: no ReLU
    assert obj.pattern(theta)[0].shape == masks[0].shape


def test_value_and_accuracy(small):
    X, y = small
    obj = DigitsObjective(X, y, 1)
    theta = np.zeros(obj.n_params)
    assert np.isclose(obj.value(theta), np.log(10.0), rtol=0, atol=1e-14)
    assert obj.accuracy(theta) == np.mean(y == 0)    # all logits tie: argmax 0
    assert obj.predictions(theta).shape == y.shape


def test_tiny_losses_keep_their_digits(small):
    X, y = small
    obj = DigitsObjective(X[:2], y[:2], 1)
    theta = np.zeros(obj.n_params)
    b3 = obj.net.bias_slice(3)
    theta[b3] = -40.0
    theta[b3.start + y[0]] = 0.0                   # sample 0 right by a margin of 40
    rows = [0] if y[0] != y[1] else [0, 1]
    exact = 9 * np.exp(-40.0)                      # log(1 + 9 e^-40)
    sub = DigitsObjective(X[rows], y[rows], 1)
    assert np.isclose(sub.value(theta), exact, rtol=1e-13, atol=0)


def test_scale_output_lowers_the_loss_of_a_perfect_fit():
    obj, theta, _ = r10_problem("rich", 8, 0, R10Config(ks=(8,), epochs=800, eval_every=800))
    res = r10_task(("rich", 8, (0,)), R10Config(ks=(8,), epochs=800, eval_every=800))
    th = res["theta"][0]
    assert obj.accuracy(th) == 1.0
    th2 = obj.scale_output(th, 2.0)
    assert np.array_equal(obj.pattern(th2)[1], obj.pattern(th)[1])
    assert 0 < obj.value(th2) < obj.value(th)
    assert np.array_equal(obj.logits(th2), 2.0 * obj.logits(th))
    with pytest.raises(TypeError, match="c"):
        obj.scale_output(th, "2")


def test_init_params_he(small):
    X, y = small
    obj = DigitsObjective(X, y, 16)
    theta = obj.init_params(0)
    W, b = obj.net.unflatten(theta)
    assert all(np.all(b[l] == 0) for l in (1, 2, 3))
    assert abs(W[1].std() - np.sqrt(2 / 64)) < 0.02
    assert np.array_equal(theta, obj.init_params(np.random.default_rng(0)))


def test_objective_validation(small):
    X, y = small
    with pytest.raises(ValueError, match="labels"):
        DigitsObjective(X, y[:-1], 2)
    with pytest.raises(TypeError, match="labels"):
        DigitsObjective(X, y.astype(float), 2)
    with pytest.raises(ValueError, match="labels"):
        DigitsObjective(X, y + 10, 2)
    with pytest.raises(ValueError, match="k"):
        DigitsObjective(X, y, 0)
    with pytest.raises(TypeError, match="masks"):
        DigitsObjective(X, y, 2, masks=np.ones((len(y), 4)))
    with pytest.raises(ValueError, match=r"masks\[1\]"):
        DigitsObjective(X, y, 2, masks=(np.ones((len(y), 4)), np.ones((len(y), 3))))
    with pytest.raises(ValueError, match=r"masks\[0\]"):
        DigitsObjective(X, y, 2, masks=(2 * np.ones((len(y), 4)), np.ones((len(y), 2))))
    with pytest.raises(ValueError, match="theta"):
        DigitsObjective(X, y, 2).value(np.zeros(3))
    with pytest.raises(TypeError, match="X"):
        DigitsObjective("X", y, 2)


# ---------------------------------------------------------------- config
def test_config_validation():
    assert R10Config().eval_epochs[-1] == R10Config().epochs
    with pytest.raises(ValueError, match="multiple"):
        R10Config(epochs=10, eval_every=3)
    with pytest.raises(ValueError, match="ks"):
        R10Config(ks=(1, 1))
    with pytest.raises(TypeError, match="ks"):
        R10Config(ks="1,2")
    with pytest.raises(ValueError, match="beta2"):
        R10Config(beta2=1.0)
    with pytest.raises(TypeError, match="lr"):
        R10Config(lr="0.1")
    with pytest.raises(ValueError, match="reps"):
        R10Config(reps=0)
    with pytest.raises(TypeError, match="config"):
        rep_streams({"seed": 1}, 1, 0)


def test_streams_pair_the_kinds():
    rnd, _, order_r = r10_problem("random", 2, 1, TINY)
    rich, theta_r, order_c = r10_problem("rich", 2, 1, TINY)
    _, theta_rnd, _ = r10_problem("random", 2, 1, TINY)
    assert rnd.kind == "random" and rich.kind == "rich"
    assert np.array_equal(theta_r, theta_rnd)
    assert np.array_equal(order_r.permutation(10), order_c.permutation(10))
    _, other, _ = r10_problem("rich", 2, 2, TINY)
    assert not np.array_equal(other, theta_r)
    with pytest.raises(ValueError, match="kind"):
        r10_problem("linear", 2, 0, TINY)


# --------------------------------------------------------------- training
def test_train_adam_descends_and_is_block_invariant():
    cfg = R10Config(ks=(2,), reps=3, epochs=6, eval_every=2)
    for kind in KINDS:
        three = r10_task((kind, 2, (0, 1, 2)), cfg)
        one = r10_task((kind, 2, (1,)), cfg)
        assert np.array_equal(three["theta"][1], one["theta"][0])
        assert three["curve_loss"].shape == (3, 3)
        assert np.all(three["curve_loss"][:, -1] < np.log(10.0))
        obj, theta0, _ = r10_problem(kind, 2, 0, cfg)
        assert three["loss"][0] < obj.value(theta0)
        assert three["accuracy"][0] > 0.1                # chance level


def test_train_adam_adam_step_by_hand(small):
    """One epoch of one batch: Adam's first step is -lr * sign(g) (up to eps)."""
    X, y = small
    obj = DigitsObjective(X, y, 4)
    theta0 = obj.init_params(2)
    cfg = R10Config(batch=len(y), epochs=1, eval_every=1)
    res = train_adam([obj], theta0[None], [np.random.default_rng(0)], cfg)
    g = obj.gradient(theta0)
    step = -1e-3 * g / (np.abs(g) + 1e-8)
    big = np.abs(g) > 1e-9                  # elsewhere the sign is round-off
    assert big.sum() > obj.n_params // 2          # not a dead network
    assert np.allclose((res.theta[0] - theta0)[big], step[big], rtol=1e-9, atol=0)
    assert np.abs(res.theta[0] - theta0)[~big].max() < 1e-4
    assert res.accuracy.shape == (1, 1) and np.isclose(res.loss[0, 0], obj.value(res.theta[0]))


def test_train_adam_validation(small):
    X, y = small
    obj = DigitsObjective(X, y, 1)
    with pytest.raises(TypeError, match="objectives"):
        train_adam([], np.zeros((0, obj.n_params)), [], TINY)
    with pytest.raises(ValueError, match="theta0"):
        train_adam([obj], np.zeros((1, 3)), [np.random.default_rng(0)], TINY)
    with pytest.raises(ValueError, match="orders"):
        train_adam([obj], np.zeros((1, obj.n_params)), [], TINY)
    other = DigitsObjective(X, y, 2)
    with pytest.raises(ValueError, match="share"):
        train_adam([obj, other], np.zeros((2, obj.n_params)), [0, 1], TINY)


# ------------------------------------------------------------ run, cache
@pytest.fixture(scope="module")
def tiny_result():
    return run_r10(TINY, jobs=1, progress=False)


def test_run_r10_arrays(tiny_result):
    res = tiny_result
    assert res.cells == [(kd, k) for kd in KINDS for k in (1, 2)]
    assert list(res.get("rich", 2, "rep")) == [0, 1, 2]
    assert res.get("random", 1, "theta").shape == (3, n_params(1))
    assert res.get("random", 1, "curve_accuracy").shape == (3, 2)
    assert res.meta["timing"]["cpu_seconds_total"] > 0
    with pytest.raises(KeyError):
        res.get("rich", 4, "accuracy")


def test_run_r10_does_not_depend_on_jobs(tiny_result):
    two = run_r10(TINY, jobs=2, progress=False, ks=(1,))
    for kind in KINDS:
        assert np.array_equal(two.get(kind, 1, "theta"), tiny_result.get(kind, 1, "theta"))


def test_cache_roundtrip_and_refusals(tiny_result, tmp_path):
    npz, js = save_r10(tiny_result, tmp_path)
    rec = json.loads(js.read_text())
    assert rec["parameters"] == json.loads(json.dumps(r10_parameters(TINY)))
    assert "timing" in rec and rec["regenerate"] == r10_command(TINY, out=tmp_path)
    back = load_r10(tmp_path, TINY)
    for key, a in tiny_result.arrays.items():
        assert np.array_equal(back[key], a)
    with pytest.raises(CacheError, match="epochs"):
        load_r10(tmp_path, R10Config(ks=(1, 2), reps=3, epochs=6, eval_every=2, block=2, seed=7))
    with pytest.raises(CacheError, match="missing"):
        load_r10(tmp_path / "nowhere", TINY)


def test_replay_reproduces_the_cache(tiny_result):
    for kind in KINDS:
        rep = replay_r10(tiny_result, kind, 2)
        assert np.array_equal(rep["accuracy"], rep["cached_accuracy"])
        assert np.allclose(rep["loss"], rep["cached_loss"], rtol=1e-12, atol=0)
    with pytest.raises(ValueError, match="rep 9"):
        replay_r10(tiny_result, "rich", 2, reps=[9])


def test_tables(tiny_result):
    rows = summary_table(tiny_result)
    assert len(rows) == 4 and {r["kind"] for r in rows} == set(KINDS)
    r = rows[0]
    a = 100 * tiny_result.get(r["kind"], r["k"], "accuracy")
    assert np.isclose(r["mean"], a.mean()) and np.isclose(r["sd"], a.std(ddof=1))
    fake = [{"kind": kd, "k": k, "mean": 99.99, "sd": 10.5} for kd in KINDS for k in (1, 2, 4, 8, 16)]
    text = format_table(fake)
    assert max(len(line) for line in text.splitlines()) <= 75
    assert "99.99±10.50" in text and text.splitlines()[1].startswith("random")


def test_compare_statistically(tiny_result):
    rows = compare_statistically(tiny_result, tiny_result)
    assert all(r["ok"] and r["diff"] == 0 for r in rows)
    shifted = R10Result({**tiny_result.arrays}, tiny_result.config)
    key = "rich/k1/accuracy"
    shifted.arrays[key] = np.clip(tiny_result.arrays[key] + 0.5, 0, 1.5)
    bad = {(r["kind"], r["k"]): r for r in compare_statistically(shifted, tiny_result)}
    assert not bad[("rich", 1)]["ok"]


def test_command_line(tmp_path, capsys):
    assert main(["--jobs", "1", "--ks", "1", "--reps", "2", "--epochs", "50", "--block", "2",
                 "--out", str(tmp_path), "--no-progress"]) == 0
    assert "wrote" in capsys.readouterr().out
    rec = json.loads((tmp_path / "r10.json").read_text())
    assert rec["parameters"]["epochs"] == 50 and rec["timing"]["jobs"] == 1
    assert "--ks 1" in rec["regenerate"] and "--reps 2" in rec["regenerate"]
    assert rec["sklearn"]
    cfg = R10Config(ks=(1,), reps=2, epochs=50, block=2)
    assert load_r10(tmp_path, cfg).get("rich", 1, "accuracy").shape == (2,)
    assert r10_command(R10Config()) == ".venv/bin/python -m lossland.relu_regions.digits --jobs 2"
