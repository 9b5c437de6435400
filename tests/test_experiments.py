"""lossland.nonattracting.experiments (P11): the reference protocol, statistics, the cache, tables."""
import json
from dataclasses import replace

import numpy as np
import pytest
from scipy import optimize

from lossland import Network, SquaredLoss
from lossland.embedding import B_matrix, D_matrix, definiteness
from lossland.nonattracting.experiments import (P11_DIR, PAPER_BINS, VERDICTS, P11Config, P11Result,
                                                comparable_neurons, compare_results, d_statistics, definite_table,
                                                load_p11, main, neuron_statistics, p11_command, p11_parameters,
                                                p11_problem, p11_seed, projected_labels, run_p11, save_p11)
from lossland.nonattracting.reference import flat_weights, reference_forward, reference_loss
from lossland.runner import CacheError

MICRO = P11Config(teacher=(2, 3, 3, 1), student=(2, 2, 2, 1), n_samples=30, exact_maxiter=5)

@pytest.fixture(scope="module")
def micro_result():
    return run_p11([0, 1, 2], MICRO, jobs=1, progress=False)


# ------------------------------------------------------------------ problem
def test_p11_problem_draws_like_the_reference_and_restores_the_generator():
    np.random.seed(123)
    expected_next = np.random.random(3)
    np.random.seed(123)
    prob = p11_problem(4)
    assert np.array_equal(np.random.random(3), expected_next)          # global state untouched
    np.random.seed(4)                                                    # the reference's order, by hand
    teacher = [10 * np.random.random(s) - 5 for s in [(2, 8), (8, 12), (12, 8), (8, 1)]]
    inputs = np.random.random((500, 2))
    student = [10 * np.random.random(s) - 5 for s in [(2, 4), (4, 6), (6, 4), (4, 1)]]
    assert np.array_equal(prob.inputs, inputs)
    assert np.array_equal(prob.labels, reference_forward(teacher, inputs))
    assert all(np.array_equal(a, b) for a, b in zip(prob.student, student))
    assert prob.labels.shape == (500, 1) and prob.seed == 4


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, True, "3"])
def test_p11_problem_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="seed"):
        p11_problem(bad)


def test_config_validation():
    with pytest.raises(ValueError, match="student"):
        P11Config(student=(2, 4, 2))                                      # output must be 1
    with pytest.raises(ValueError, match="input size"):
        P11Config(teacher=(3, 4, 1))
    with pytest.raises(ValueError, match="n_samples"):
        P11Config(n_samples=0)
    with pytest.raises(ValueError, match="gtol"):
        P11Config(gtol=-1.0)
    with pytest.raises(TypeError, match="teacher"):
        P11Config(teacher="2-8-1")
    with pytest.raises(TypeError, match="config"):
        p11_problem(0, config={"n_samples": 10})


# --------------------------------------------------------------- statistics
def small_point(seed=0):
    net = Network((2, 3, 2, 1), "sigmoid", biases=False)
    rng = np.random.default_rng(seed)
    X, y = rng.random((25, 2)), rng.standard_normal(25)
    return net, net.init_params(rng, 2.0), X, y


def test_neuron_statistics_summarise_B_and_D():
    net, theta, X, y = small_point()
    st = neuron_statistics(SquaredLoss(net, X, y), theta)
    for l in (1, 2):
        assert st[f"B_eig_{l}"].shape == (net.widths[l], net.widths[l - 1])
        for r in range(net.widths[l]):
            B = B_matrix(SquaredLoss(net, X, y), theta, l, r)
            D, S = D_matrix(SquaredLoss(net, X, y), theta, l, r, return_scale=True)
            assert np.allclose(st[f"B_eig_{l}"][r], np.linalg.eigvalsh(0.5 * (B + B.T)), rtol=0, atol=1e-14)
            assert VERDICTS[st[f"B_code_{l}"][r]] == definiteness(0.5 * (B + B.T)).verdict
            assert st[f"D_max_{l}"][r] == D.max() and st[f"D_absmax_{l}"][r] == np.abs(D).max()
            assert st[f"D_scale_{l}"][r] == S.max() >= st[f"D_absmax_{l}"][r]
    with pytest.raises(TypeError, match="objective"):
        neuron_statistics(net, theta)
    with pytest.raises(ValueError, match="theta"):
        neuron_statistics(SquaredLoss(net, X, y), theta[:-1])


def test_last_hidden_layer_D_is_the_gradient_over_2v():
    """D^{r}_i = (dL/du_{r,i}) / (2 v_r) in the last hidden layer: why D = 0 at a critical point."""
    net, theta, X, y = small_point(1)
    g = SquaredLoss(net, X, y).gradient(theta)
    W, _ = net.unflatten(theta)
    for r in range(net.widths[2]):
        D = D_matrix(SquaredLoss(net, X, y), theta, 2, r)[:, 0]
        assert np.allclose(D, g[net.incoming_indices(2, r)] / (2 * W[3][0, r]), rtol=1e-12, atol=1e-15)


def test_projected_labels_make_the_point_exactly_critical_with_the_smallest_change():
    net, theta, X, y = small_point(2)
    obj = SquaredLoss(net, X, y)
    y2 = projected_labels(obj, theta)
    obj2 = SquaredLoss(net, X, y2)
    J, r2 = obj2.jacobian(theta), obj2.residuals(theta)
    g = obj2.gradient(theta)
    assert np.linalg.norm(g) <= 1e-13 * np.linalg.norm(2 * np.abs(J).T @ np.abs(r2))
    assert np.linalg.norm(obj.gradient(theta)) > 1e-3                   # it was not critical before
    # minimal: the shift lies in the range of J (here of full column rank, spanned by QR's Q)
    shift = y2 - y
    assert np.linalg.matrix_rank(J) == J.shape[1]
    Q = np.linalg.qr(J)[0]
    assert np.linalg.norm(shift - Q @ (Q.T @ shift)) <= 1e-12 * np.linalg.norm(shift)
    with pytest.raises(TypeError, match="objective"):
        projected_labels("obj", theta)


# ------------------------------------------------------------------ running
def test_p11_seed_records_every_protocol(micro_result):
    res = micro_result
    assert list(res.seeds) == [0, 1, 2]
    assert np.all(res["fd_status"] >= 0) and np.all(res["fd_nit"] > 0)
    assert np.allclose(res["fd_loss"], res["fd_ref_loss"], rtol=1e-12)   # lossland and reference agree
    assert np.all(res["projected_grad_norm"] <= 1e-12 * res["projected_grad_scale"])
    assert np.all(res["projected_loss"] <= res["fd_loss"] * (1 + 1e-12))
    assert np.all(res["exact_converged"] == (res["exact_grad_norm"] <= MICRO.gtol))
    assert res["fd_theta"].shape == (3, Network(MICRO.student, biases=False).n_params)
    rec = p11_seed(1, MICRO)                                             # one seed alone: the same numbers
    assert np.array_equal(rec["fd_theta"], res["fd_theta"][1])
    assert np.array_equal(rec["exact_B_eig_2"], res["exact_B_eig_2"][1])


def test_run_p11_does_not_depend_on_jobs(micro_result):
    two = run_p11([0, 1, 2], MICRO, jobs=2, progress=False)
    assert np.array_equal(two["fd_theta"], micro_result["fd_theta"])
    assert np.array_equal(two["fd_B_eig_1"], micro_result["fd_B_eig_1"])
    dev = compare_results(two, micro_result)
    assert max(dev.values()) <= 1e-6


def test_run_p11_validation():
    with pytest.raises(ValueError, match="empty"):
        run_p11([], MICRO, progress=False)
    with pytest.raises(ValueError, match="repeat"):
        run_p11([1, 1], MICRO, progress=False)
    with pytest.raises(ValueError, match="jobs"):
        run_p11([0], MICRO, jobs=0, progress=False)


def test_fd_protocol_is_scipys_bfgs_with_default_options():
    """P11's cache was made with the code of 000 V-E: minimize(loss, w0, method="BFGS"), nothing else."""
    prob = p11_problem(1, MICRO)
    shapes = [m.shape for m in prob.student]
    with np.errstate(over="ignore"):
        plain = optimize.minimize(reference_loss, flat_weights(prob.student), (prob.inputs, prob.labels, shapes),
                                  method="BFGS")
    rec = p11_seed(1, MICRO)
    net = Network(MICRO.student, "sigmoid", biases=False)
    assert np.array_equal(net.flatten([U.T for U in reference_unflat(plain.x, shapes)]), rec["fd_theta"])
    assert rec["fd_nit"] == plain.nit and rec["fd_ref_loss"] == plain.fun


def reference_unflat(flat, shapes):
    out, start = [], 0
    for a, b in shapes:
        out.append(flat[start:start + a * b].reshape(a, b))
        start += a * b
    return out


def test_save_and_load_round_trip(micro_result, tmp_path):
    npz, js = save_p11(micro_result, tmp_path, regenerate="test command")
    back = load_p11(tmp_path, MICRO, seeds=[0, 1, 2])
    assert back.config == MICRO
    assert set(back.arrays) == set(micro_result.arrays)
    assert all(np.array_equal(back[k], micro_result[k]) for k in back.arrays)
    meta = json.loads(js.read_text())
    assert meta["regenerate"] == back.meta["regenerate"] == "test command"
    assert set(meta["versions"]) >= {"numpy", "scipy", "lossland", "python"}
    assert meta["parameters"] == json.loads(json.dumps(p11_parameters(MICRO, [0, 1, 2])))
    assert meta["parameters"]["seeds"] == {"first": 0, "count": 3}
    assert meta["parameters"]["fd_bfgs_options"]["gtol"] == 1e-5
    save_p11(back, tmp_path / "again")                                 # a loaded result saves again
    assert json.loads((tmp_path / "again" / "p11.json").read_text())["regenerate"] == p11_command(
        3, config=MICRO, out=tmp_path / "again")
    with pytest.raises(TypeError, match="result"):
        save_p11({"seed": 1}, tmp_path)


def test_load_refuses_a_cache_made_otherwise(micro_result, tmp_path):
    save_p11(micro_result, tmp_path)
    with pytest.raises(CacheError) as err:
        load_p11(tmp_path)                                             # the default config is not MICRO
    msg = str(err.value)
    assert "teacher: cached [2, 3, 3, 1], requested [2, 8, 12, 8, 1]" in msg and "n_samples: cached 30" in msg
    assert "exact_maxiter: cached 5, requested 25" in msg and "gtol" not in msg
    assert p11_command(config=P11Config(), out=tmp_path) in msg and f"--out {tmp_path}" in msg
    with pytest.raises(CacheError, match=r"seeds: cached \{'first': 0, 'count': 3\}, requested \[0, 2\]"):
        load_p11(tmp_path, MICRO, seeds=[0, 2])
    with pytest.raises(CacheError, match="missing.*--seeds 1000 --jobs 2"):
        load_p11(tmp_path / "missing")
    (tmp_path / "p11.npz").write_bytes(b"")
    with pytest.raises(CacheError, match="p11.npz: does not match its JSON record"):
        load_p11(tmp_path, MICRO)
    with pytest.raises(TypeError, match="config"):
        load_p11(tmp_path, {"n_samples": 30})


def test_the_cached_run_loads_and_is_the_default_experiment():
    """data/p11, the book's own cache, loads as the default experiment with its real regeneration command."""
    assert P11_DIR.parent.name == "data" and (P11_DIR / "p11.npz").exists()
    cache = load_p11()
    assert cache.config == P11Config() and list(cache.seeds) == list(range(1000))
    assert cache.meta["regenerate"] == p11_command() == (".venv/bin/python -m lossland.nonattracting.experiments "
                                                         "p11 --seeds 1000 --jobs 2")
    assert cache["fd_theta"].shape == (1000, Network(P11Config().student, biases=False).n_params)
    with pytest.raises(CacheError, match="n_samples: cached 500, requested 400"):
        load_p11(config=replace(P11Config(), n_samples=400))


def test_select_and_compare(micro_result):
    sub = micro_result.select([2, 0])
    assert list(sub.seeds) == [2, 0]
    assert np.array_equal(sub["fd_loss"], micro_result["fd_loss"][[2, 0]])
    assert max(compare_results(sub, sub).values()) == 0.0
    changed = P11Result({k: v.copy() for k, v in sub.arrays.items()}, sub.config)
    changed.arrays["fd_loss"][0] *= 1.001
    changed.arrays["fd_B_code_1"][0, 0] = 5 - changed.arrays["fd_B_code_1"][0, 0]
    dev = compare_results(changed, sub)
    assert dev["fd_loss"] == pytest.approx(1e-3, rel=1e-6) and dev["fd_B_code_1"] == np.inf
    with pytest.raises(ValueError, match="seed 7"):
        micro_result.select([7])
    with pytest.raises(ValueError, match="same seeds"):
        compare_results(sub, micro_result)


# ------------------------------------------------------------------- tables
def test_comparable_neurons_reproduce_the_reference_loop_bounds():
    cfg = P11Config()
    assert [comparable_neurons(cfg, l) for l in (1, 2, 3)] == [4, 4, 4]  # layer 2: range(dim_layer_1)
    assert [comparable_neurons(MICRO, l) for l in (1, 2)] == [2, 2]
    with pytest.raises(ValueError, match="hidden layer"):
        comparable_neurons(cfg, 4)


def test_definite_table_counts_and_intervals(micro_result):
    res = micro_result
    rows = definite_table(res, "fd", paper={})
    assert [(r["layer"], r["convention"]) for r in rows] == [(1, "comparable"), (1, "correct"),
                                                            (2, "comparable"), (2, "correct")]
    for row in rows:
        l = row["layer"]
        ev, code = res[f"fd_B_eig_{l}"], res[f"fd_B_code_{l}"]
        if row["convention"] == "comparable":
            nc = comparable_neurons(MICRO, l)
            assert row["k"] == np.all(ev[:, :nc] > 0, axis=2).sum() and row["n"] == 3 * nc
        else:
            assert row["k"] == (code == 0).sum() and row["n"] == code.size
        assert 0 <= row["ci_low"] <= row["p"] <= row["ci_high"] <= 1
    with pytest.raises(ValueError, match="protocol"):
        definite_table(res, "adam")


def test_definite_table_compares_with_the_paper_on_its_visited_slots():
    cfg = P11Config()
    S = 10
    eig = {1: np.ones((S, 4, 2)), 2: -np.ones((S, 6, 4)), 3: -np.ones((S, 4, 6))}
    eig[2][:, 4:] = 1.0                                                  # positive only where the code never looks
    arrays = {"seed": np.arange(S)}
    for l in (1, 2, 3):
        arrays[f"fd_B_eig_{l}"] = eig[l]
        arrays[f"fd_B_code_{l}"] = np.where(eig[l][..., 0] > 0, 0, 1).astype(np.int8)
    rows = definite_table(P11Result(arrays, cfg), "fd")
    by = {(r["layer"], r["convention"]): r for r in rows}
    assert by[(1, "comparable")]["k"] == 40 and by[(1, "comparable")]["paper_n"] == 4000
    assert by[(2, "comparable")]["k"] == 0 and by[(2, "comparable")]["n"] == 40
    assert by[(2, "comparable")]["paper_n"] == 4000 and by[(2, "comparable")]["paper_n_printed"] == 6000
    assert by[(2, "correct")]["k"] == 20 and by[(2, "correct")]["n"] == 60
    assert by[(3, "correct")]["neg_k"] == 40
    assert not by[(1, "comparable")]["paper_inside"]                      # 100% is not 547/4000


def test_d_statistics(micro_result):
    d = d_statistics(micro_result, "projected", 2)
    assert d["signed"].shape == d["absmax"].shape == (3 * 2,)
    assert np.all(d["absmax"] >= np.abs(d["signed"]) * (1 - 1e-15))
    assert np.all((0 <= d["relative"]) & (d["relative"] <= 1))
    inside = (d["signed"] >= PAPER_BINS[0]) & (d["signed"] <= PAPER_BINS[-1])
    assert d["paper_hist"].sum() == inside.sum() == d["signed"].size - d["n_negative"] - d["n_above"]
    with pytest.raises(ValueError, match="hidden layer"):
        d_statistics(micro_result, "fd", 3)


def test_command_line_writes_the_cache(tmp_path):
    out = tmp_path / "p11"
    assert main(["p11", "--seeds", "2", "--jobs", "1", "--samples", "40", "--exact-maxiter", "3",
                 "--out", str(out), "--no-progress"]) == 0
    res = load_p11(out, P11Config(n_samples=40, exact_maxiter=3))
    assert list(res.seeds) == [0, 1] and res.config.n_samples == 40 and res.config.exact_maxiter == 3
    cmd = res.meta["regenerate"]
    assert cmd.startswith(".venv/bin/python -m lossland.nonattracting.experiments p11 --seeds 2 --jobs 1")
    assert "--samples 40" in cmd and "--exact-maxiter 3" in cmd
    assert res.meta["timing"]["jobs"] == 1 and res.meta["timing"]["wall_seconds"] >= 0
    assert np.array_equal(res["fd_theta"][0], p11_seed(0, res.config)["fd_theta"])
    with pytest.raises(SystemExit):
        main(["p11", "--seeds", "0"])


def test_replay_recomputes_everything_after_the_training(micro_result):
    """replay_p11 = p11_from_fd on the stored end points: on the same machine the same numbers, and
    every quantity of p11_seed except the training's own (FD_TRAINING_KEYS)."""
    from lossland.nonattracting.experiments import FD_TRAINING_KEYS, replay_p11
    rep = replay_p11(micro_result, [2, 0])
    sub = micro_result.select([2, 0])
    assert set(rep.arrays) | set(FD_TRAINING_KEYS) == set(sub.arrays)
    assert not set(rep.arrays) & set(FD_TRAINING_KEYS)
    dev = compare_results(rep, sub)
    assert "fd_nit" not in dev and "projected_B_eig_1" in dev and max(dev.values()) == 0.0
    # a replay from other end points is not the cache: the comparison sees it
    moved = P11Result({k: v.copy() for k, v in sub.arrays.items()}, sub.config)
    moved.arrays["fd_theta"][0] += 1e-3
    assert compare_results(replay_p11(moved), sub)["fd_loss"] > 0
    with pytest.raises(TypeError, match="cached"):
        replay_p11({"seed": [0]})
