"""lossland.bad_minima.splitting and the chapter helpers of Propositions 2 and 4 (G4, G6, G9)."""
import numpy as np
import pytest

from lossland import Network, SquaredLoss
from lossland.bad_minima.function_sets import function_set
from lossland.bad_minima.perturbation import residual_scaling_interval
from lossland.bad_minima.proposition2 import check_proposition2, proposition2_construction, proposition2_figure
from lossland.bad_minima.proposition4 import proposition4_construction
from lossland.bad_minima.splitting import (embed_both_layers, escape_path, loss_change, monotone_descent, path_rise,
                                           widen)
from lossland.embedding import B_matrix, embed_neuron, embed_repeatedly


def xs(N, seed=1):
    return np.sort(np.random.default_rng(seed).uniform(-3, 3, N))


@pytest.fixture(scope="module")
def gelu8():
    return proposition2_construction("gelu", xs(8), c=1.0)


def test_loss_change_agrees_with_the_loss(gelu8):
    rng = np.random.default_rng(0)
    d = rng.standard_normal(4)
    ts = np.array([0.3, -0.1, 0.02])
    for norm in ("sum", "half"):
        o = SquaredLoss(gelu8.net, gelu8.X, gelu8.y, norm)
        ref = np.array([o.value(gelu8.theta + t * d) - o.value(gelu8.theta) for t in ts])
        assert np.allclose(loss_change(o, gelu8.theta, d, ts), ref, rtol=1e-9, atol=1e-14)
    with pytest.raises(ValueError, match="ts must be"):
        loss_change(gelu8.objective, gelu8.theta, d, [np.nan])
    with pytest.raises(TypeError, match="objective"):
        loss_change(gelu8.net, gelu8.theta, d, ts)


def test_widen(gelu8):
    net, th = gelu8.net, gelu8.theta
    n1, t1 = widen(net, th, 1, 0, 1, 0.3)
    assert n1 is net and np.array_equal(t1, th)
    n3, t3 = widen(net, th, 1, 0, 3, 0.3)
    ref_n, ref_t = embed_repeatedly(net, th, 1, 0, [0.3, 0.3])
    assert n3.widths == (1, 3, 1) and np.array_equal(t3, ref_t)
    assert np.allclose(n3(t3, gelu8.X), net(th, gelu8.X), rtol=0, atol=1e-14)   # the function is unchanged
    with pytest.raises(ValueError, match="width must be at least"):
        widen(n3, t3, 1, 0, 2, 0.3)


def test_path_rise_detects_an_increase(gelu8):
    o = gelu8.objective
    start = gelu8.theta + np.array([0.5, -0.5, 0.3, 0.2])
    path = monotone_descent(o, start, max_steps=20)
    assert path_rise(o, path.thetas, refine=32) <= 1.0
    assert path_rise(o, path.thetas[::-1], refine=32) > 1e6           # the same path backwards goes up
    with pytest.raises(ValueError, match="at least two rows"):
        path_rise(o, path.thetas[:1])


def test_escape_path_leaves_the_embedded_minimum(gelu8):
    R0 = gelu8.loss
    p = escape_path(gelu8.objective, gelu8.theta, 3, sign=1, max_steps=40)
    assert p.objective.net.widths == (1, 3, 1)
    assert np.ptp(p.flat) < 1e-12 * R0                                 # lambda moves at constant loss
    ev = p.saddle_eigenvalues
    assert np.sum(ev < -1e-9 * np.abs(ev).max()) == 2 and p.curvature < 0
    assert np.all(np.diff(p.descent) <= 0) and p.descent[-1] < R0
    assert np.all(np.diff(p.monotone.losses) <= 0)
    assert np.isclose(p.objective.value(p.saddle), R0, rtol=1e-12)
    with pytest.raises(ValueError, match="sign"):
        escape_path(gelu8.objective, gelu8.theta, 3, sign=0)


def test_check_proposition2_and_the_figure_data(gelu8):
    cons, e = check_proposition2("gelu", xs(8))
    assert np.allclose(cons.delta_y, gelu8.delta_y) and e[0] > 0
    H = cons.objective.hessian(cons.theta)
    assert np.allclose(e, np.linalg.eigvalsh(0.5 * (H + H.T)))
    cn, e2, Lb = proposition2_figure("gelu", 10, 3.0, 1.0, draw=False)
    assert cn.n_samples == 10 and Lb < cn.loss and e2[0] > 0
    with pytest.raises(ValueError, match="N must be >= 7"):
        proposition2_figure("gelu", 5, draw=False)


def test_embed_both_layers_checks_theorem2():
    x = xs(40)
    orth, pos = function_set("B3_embedding_orthogonal"), function_set("B3_embedding_positive")
    c0 = proposition4_construction("gelu", x, orthogonal=orth, positive=pos, dps=40)
    cons = proposition4_construction("gelu", x, c=0.5 * residual_scaling_interval(c0)[1], orthogonal=orth,
                                     positive=pos, dps=40)
    n, t = embed_both_layers(cons.objective, cons.theta, 3, 2)
    ref = embed_repeatedly(*embed_neuron(cons.net, cons.theta, 2, 0, 0.3), 1, 0, [0.3, 0.3])
    assert n.widths == (1, 3, 2, 1) and np.array_equal(t, ref[1])
    # with only the gradient conditions the B-matrices have no sign: Theorem 2's hypothesis fails
    cg = proposition4_construction("gelu", x, c=0.01, orthogonal="B3_gradient", positive=())
    B2 = 2 * B_matrix(cg.objective, cg.theta, 2, 0)
    assert np.linalg.eigvalsh(0.5 * (B2 + B2.T))[0] < 0                 # independent: an indefinite B(2)
    with pytest.raises(ValueError, match="layer 2.*B is not positive definite"):
        embed_both_layers(cg.objective, cg.theta, 1, 2)
    n1, _ = embed_both_layers(cg.objective, cg.theta, 1, 2, check=False)
    assert n1.widths == (1, 1, 2, 1)
    with pytest.raises(ValueError, match="1-1-1-1"):
        embed_both_layers(SquaredLoss(Network((1, 2, 1, 1), "gelu"), x, x), np.zeros(9), 2, 2)
