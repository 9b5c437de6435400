"""The embedding gamma_lambda^r, Theorem 4, Lemma 1, B and D (eq. (1), (2)), Proposition 1,
definiteness verdicts and the degenerate / descent directions (paper 000, Section V)."""
import numpy as np
import pytest

from lossland import SMOOTH_ACTIVATIONS, Network, SquaredLoss
from lossland.embedding import (B_matrix, D_matrix, alpha_beta, definiteness, degenerate_direction,
                                descent_direction, embed_neuron, embed_repeatedly, lemma1_basis,
                                lemma1_hessian, small_to_big_indices)

from conftest import CRITICAL_CASES, critical_point, reference_dh_dn

LAMBDAS = [-1.5, 0.0, 0.3, 0.5, 1.0, 2.7]
EMBED_ARCHS = [
    ((2, 3, 1), True),
    ((1, 2, 1), False),
    ((2, 2, 3, 1), True),
    ((3, 1, 2, 1), False),
    ((2, 3, 2, 2, 1), True),
    ((1, 2, 1, 3, 2, 1), False),       # four hidden layers
]


def random_problem(widths, activation, biases, seed, n_samples=7, scale=0.8):
    rng = np.random.default_rng(seed)
    net = Network(widths, activation, biases=biases)
    return net, net.init_params(rng, scale), rng.standard_normal((n_samples, widths[0])), rng.standard_normal(n_samples)


def new_neuron(net, layer):
    """Code index of n(l, -1; x) in the bigger network: appended last."""
    return net.widths[layer]


# --------------------------------------------------------------- gamma_lambda
@pytest.mark.parametrize("activation", SMOOTH_ACTIVATIONS)
@pytest.mark.parametrize("widths,biases", EMBED_ARCHS)
def test_gamma_keeps_function_and_every_neuron(widths, biases, activation):
    net, theta, X, _ = random_problem(widths, activation, biases, seed=len(widths) * 3 + biases,
                                      scale=0.3 if activation == "exp" else 0.8)
    fw = net.forward(theta, X)
    for layer in net.hidden_layers:
        for r in sorted({0, widths[layer] - 1}):
            for lam in LAMBDAS:
                big, tb = embed_neuron(net, theta, layer, r, lam)
                assert big.widths == tuple(w + (l == layer) for l, w in enumerate(widths))
                assert big.activation is net.activation and big.biases == biases
                fb = big.forward(tb, X)
                assert np.allclose(fb.output, fw.output, rtol=1e-12, atol=1e-12)
                for l in range(1, net.depth + 1):
                    n = widths[l]
                    assert np.allclose(fb.pre[l][:, :n], fw.pre[l], rtol=1e-12, atol=1e-12)
                    assert np.allclose(fb.act[l][:, :n], fw.act[l], rtol=1e-12, atol=1e-12)
                # the new neuron copies neuron r
                m = new_neuron(net, layer)
                assert np.allclose(fb.pre[layer][:, m], fw.pre[layer][:, r], rtol=1e-14, atol=1e-15)
                assert np.allclose(fb.act[layer][:, m], fw.act[layer][:, r], rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("widths,biases", EMBED_ARCHS)
def test_gamma_parameters_and_index_map(widths, biases):
    net, theta, _, _ = random_problem(widths, "tanh", biases, seed=5)
    for layer in net.hidden_layers:
        to_big = small_to_big_indices(net, layer)
        assert len(set(to_big)) == net.n_params
        for r in range(widths[layer]):
            lam = 0.37
            big, tb = embed_neuron(net, theta, layer, r, lam)
            m = new_neuron(net, layer)
            u_r, v_r = net.incoming_indices(layer, r), net.outgoing_indices(layer, r)
            # gamma(u_r, v_r, w_bar) = (u_r, lambda v_r, u_r, (1 - lambda) v_r, w_bar)
            assert np.array_equal(tb[big.incoming_indices(layer, m)], theta[u_r])
            assert np.array_equal(tb[big.incoming_indices(layer, r)], theta[u_r])
            assert np.allclose(tb[big.outgoing_indices(layer, m)], lam * theta[v_r], rtol=1e-15, atol=0)
            assert np.allclose(tb[big.outgoing_indices(layer, r)], (1 - lam) * theta[v_r], rtol=1e-15, atol=0)
            others = np.setdiff1d(np.arange(net.n_params), v_r)
            assert np.array_equal(tb[to_big[others]], theta[others])
            # the big parameters not hit by to_big are exactly the new neuron's
            fresh = np.setdiff1d(np.arange(big.n_params), to_big)
            expect = np.union1d(big.incoming_indices(layer, m), big.outgoing_indices(layer, m))
            assert np.array_equal(fresh, expect)


def test_embed_repeatedly_matches_successive_embeddings():
    net, theta, X, _ = random_problem((2, 3, 2, 1), "sigmoid", True, seed=9)
    lambdas = [0.3, -0.5, 2.0]
    big, tb = embed_repeatedly(net, theta, 1, 1, lambdas)
    n2, t2 = net, theta
    for lam in lambdas:
        n2, t2 = embed_neuron(n2, t2, 1, 1, lam)
    assert big == n2 and np.array_equal(tb, t2)
    assert big.widths == (2, 6, 2, 1)
    assert np.allclose(big(tb, X), net(theta, X), rtol=1e-12, atol=1e-12)
    # outgoing weights: neuron r keeps prod(1 - lambda_t) v, new neuron t gets lambda_t prod_{s<t}(1 - lambda_s) v
    v = theta[net.outgoing_indices(1, 1)]
    keep = 1.0
    for t, lam in enumerate(lambdas):
        assert np.allclose(tb[big.outgoing_indices(1, 3 + t)], lam * keep * v, rtol=1e-14)
        keep *= 1 - lam
        assert np.array_equal(tb[big.incoming_indices(1, 3 + t)], theta[net.incoming_indices(1, 1)])
    assert np.allclose(tb[big.outgoing_indices(1, 1)], keep * v, rtol=1e-14)


# ----------------------------------------------------- first-order relations
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "gelu", "mish", "softplus"])
@pytest.mark.parametrize("widths,biases", EMBED_ARCHS)
def test_gradient_at_gamma_relates_to_the_small_gradient(widths, biases, activation):
    """000, Appendix E.2 (any point, not only critical ones): d L/d u_{-1} = lambda d l/d u_r,
    d L/d u_r = (1 - lambda) d l/d u_r, d L/d v_{-1} = d L/d v_r = d l/d v_r, w_bar unchanged."""
    net, theta, X, y = random_problem(widths, activation, biases, seed=sum(widths))
    g = SquaredLoss(net, X, y).gradient(theta)
    for layer in net.hidden_layers:
        r = widths[layer] - 1
        to_big = small_to_big_indices(net, layer)
        u_r, v_r = net.incoming_indices(layer, r), net.outgoing_indices(layer, r)
        w_bar = np.setdiff1d(np.arange(net.n_params), np.union1d(u_r, v_r))
        for lam in (-0.7, 0.4, 1.8):
            big, tb = embed_neuron(net, theta, layer, r, lam)
            G = SquaredLoss(big, X, y).gradient(tb)
            m = new_neuron(net, layer)
            tol = dict(rtol=1e-10, atol=1e-12)
            assert np.allclose(G[big.incoming_indices(layer, m)], lam * g[u_r], **tol)
            assert np.allclose(G[big.incoming_indices(layer, r)], (1 - lam) * g[u_r], **tol)
            assert np.allclose(G[big.outgoing_indices(layer, m)], g[v_r], **tol)
            assert np.allclose(G[big.outgoing_indices(layer, r)], g[v_r], **tol)
            assert np.allclose(G[to_big[w_bar]], g[w_bar], **tol)


@pytest.mark.parametrize("case", CRITICAL_CASES, ids=lambda c: f"{c[0]}-{'-'.join(map(str, c[1]))}")
def test_theorem4_critical_points_map_to_critical_points(case):
    net, theta, X, y, cp = critical_point(*case)
    g_small = np.linalg.norm(SquaredLoss(net, X, y).gradient(theta))
    assert g_small <= 1e-10
    for layer in net.hidden_layers:
        for r in range(net.widths[layer]):
            for lam in (-1.3, 0.25, 0.5, 2.0):
                big, tb = embed_neuron(net, theta, layer, r, lam)
                g_big = np.linalg.norm(SquaredLoss(big, X, y).gradient(tb))
                # by the first-order relations ||grad L|| <= (|lambda| + |1 - lambda| + 1) ||grad l||
                assert g_big <= (abs(lam) + abs(1 - lam) + 1) * g_small + 1e-13
                assert g_big <= 1e-9


# --------------------------------------------------------- B and D, eq. (1)-(2)
def reference_B_D(net, theta, X, y, layer, r):
    """B^r_{ij} and D^{r,s}_i written out from eq. (1) and (2) of 000, sample by sample."""
    act = net.activation
    W, b = net.unflatten(theta)
    n_in = net.widths[layer - 1] + (1 if net.biases else 0)
    B = np.zeros((n_in, n_in))
    D = np.zeros((n_in, net.widths[layer + 1]))
    for x, t in zip(X, y):
        fw = net.forward(theta, x[None, :])
        res = fw.output[0] - t
        dh = reference_dh_dn(net.widths, act, net.biases, theta, x, layer + 1)    # d h / d n(l+1, k)
        a_prev = list(fw.act[layer - 1][0]) + ([1.0] if net.biases else [])
        n_lr = fw.pre[layer][0, r]
        v = W[layer + 1][:, r]
        for i in range(n_in):
            for j in range(n_in):
                B[i, j] += res * sum(dh[k] * v[k] for k in range(len(v))) * act.d2(n_lr) * a_prev[i] * a_prev[j]
            for s in range(net.widths[layer + 1]):
                D[i, s] += res * dh[s] * act.d1(n_lr) * a_prev[i]
    return B, D


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "gelu", "softplus"])
@pytest.mark.parametrize("widths,biases", EMBED_ARCHS)
def test_B_and_D_match_equations_1_and_2(widths, biases, activation):
    net, theta, X, y = random_problem(widths, activation, biases, seed=3 + len(widths), n_samples=5)
    for layer in net.hidden_layers:
        for r in sorted({0, widths[layer] - 1}):
            B, D = B_matrix(SquaredLoss(net, X, y), theta, layer, r), D_matrix(SquaredLoss(net, X, y), theta, layer, r)
            B_ref, D_ref = reference_B_D(net, theta, X, y, layer, r)
            assert B.shape == B_ref.shape and D.shape == D_ref.shape
            assert np.allclose(B, B_ref, rtol=1e-11, atol=1e-13)
            assert np.allclose(D, D_ref, rtol=1e-11, atol=1e-13)
            assert np.allclose(B, B.T, rtol=1e-14, atol=1e-16)
            D2, scale = D_matrix(SquaredLoss(net, X, y), theta, layer, r, return_scale=True)
            assert np.array_equal(D2, D) and np.all(scale >= np.abs(D))


@pytest.mark.parametrize("widths,biases", EMBED_ARCHS)
def test_D_contracted_with_v_is_half_the_u_gradient(widths, biases):
    """sum_s D^{r,s}_i v*_{s,r} = 1/2 dL/du_{r,i} for L = sum (f - y)^2 (the identity behind Prop. 1)."""
    net, theta, X, y = random_problem(widths, "mish", biases, seed=17)
    g = SquaredLoss(net, X, y).gradient(theta)
    for layer in net.hidden_layers:
        for r in range(widths[layer]):
            D = D_matrix(SquaredLoss(net, X, y), theta, layer, r)
            v = theta[net.outgoing_indices(layer, r)]
            assert np.allclose(D @ v, 0.5 * g[net.incoming_indices(layer, r)], rtol=1e-11, atol=1e-13)


def test_B_and_D_vanish_at_zero_residual():
    """Proposition 1(iii) of 000: with f(x) = y every summand of (1) and (2) is zero."""
    net, theta, X, _ = random_problem((2, 3, 2, 1), "tanh", True, seed=4)
    y = net(theta, X)
    for layer in net.hidden_layers:
        assert not B_matrix(SquaredLoss(net, X, y), theta, layer, 1).any()
        assert not D_matrix(SquaredLoss(net, X, y), theta, layer, 1).any()


@pytest.mark.parametrize("case", CRITICAL_CASES, ids=lambda c: f"{c[0]}-{'-'.join(map(str, c[1]))}")
def test_proposition1_D_vanishes_at_critical_points(case):
    """(i) last hidden layer; (ii) layer l+1 of width 1 (dh/dn(l+1, s) trivially equal for all s)."""
    net, theta, X, y, cp = critical_point(*case)
    L = net.depth
    for layer in net.hidden_layers:
        if layer != L - 1 and net.widths[layer + 1] != 1:
            continue
        for r in range(net.widths[layer]):
            v = theta[net.outgoing_indices(layer, r)]
            assert abs(v.sum()) > 1e-3                                  # the hypothesis sum_s v_{s,r} != 0
            D, scale = D_matrix(SquaredLoss(net, X, y), theta, layer, r, return_scale=True)
            assert np.abs(D).max() <= 10 * cp.grad_norm / abs(v.sum()) + 1e3 * np.finfo(float).eps * scale.max()


def test_D_is_not_zero_in_a_deeper_layer():
    """Theorem 6 is not void: at a critical point of 2-2-2-1, D != 0 in the first hidden layer."""
    net, theta, X, y, cp = critical_point("gelu", (2, 2, 2, 1), True, 0)
    D, scale = D_matrix(SquaredLoss(net, X, y), theta, 1, 0, return_scale=True)
    assert np.abs(D).max() > 1e-3 * scale.max() > 0
    assert np.abs(D).max() > 1e6 * cp.grad_norm


# --------------------------------------------------------------------- Lemma 1
AB_PAIRS = [(None, None, 0.3), (1.0, 1.0, 0.5), (0.5, 0.5, 0.5), (2.0, -0.5, -1 / 3), (-1.0, 3.0, 1.5),
            (0.7, 0.3, 0.3), (1.0, 0.0, 0.0)]
LEMMA1_CASES = [("tanh", (2, 2, 1), True, 0), ("gelu", (2, 2, 2, 1), True, 0),
                ("mish", (2, 2, 2, 1), False, 1), ("silu", (2, 1, 1, 1, 1), False, 1)]


ZERO_BLOCKS = [("u_sum", "u_diff"), ("u_sum", "v_diff"), ("w_bar", "u_diff"), ("w_bar", "v_diff"),
               ("v_sum", "v_diff"), ("v_diff", "v_diff")]


@pytest.mark.parametrize("normalization", ["sum", "half"])
@pytest.mark.parametrize("case", LEMMA1_CASES, ids=lambda c: f"{c[0]}-{'-'.join(map(str, c[1]))}")
def test_lemma1_hessian_in_the_new_basis(case, normalization):
    net, theta, X, y, _ = critical_point(*case)
    for layer in net.hidden_layers:
        r = net.widths[layer] - 1
        for alpha, beta, lam in AB_PAIRS:
            big, tb = embed_neuron(net, theta, layer, r, lam)
            H_big = SquaredLoss(big, X, y, normalization).hessian(tb)
            M, basis = lemma1_hessian(SquaredLoss(net, X, y, normalization), theta, layer, r, lam, alpha, beta)
            P = basis.matrix
            if alpha is not None:
                assert (basis.alpha, basis.beta) == (alpha, beta)
            assert abs(np.linalg.det(P)) > 1e-12
            direct = P.T @ H_big @ P
            scale = max(1.0, np.abs(direct).max())
            assert np.abs(direct - M).max() <= 1e-8 * scale, f"layer {layer}, alpha={alpha}, beta={beta}"
            bl = basis.blocks
            for a, b in ZERO_BLOCKS:
                assert np.abs(direct[bl[a], bl[b]]).max(initial=0.0) <= 1e-8 * scale
                assert not M[bl[a], bl[b]].any()


def paper_lemma1_matrix(net, theta, X, y, layer, r, alpha, beta, normalization):
    """The block matrix of Lemma 1 assembled here from the small Hessian and the test's own B, D,
    with the factor 2c of L = c sum (f - y)^2 on the B and D blocks (eq. (1)-(2) carry no factor 2)."""
    c = {"sum": 1.0, "half": 0.5}[normalization]
    h = SquaredLoss(net, X, y, normalization).hessian(theta)
    h = 0.5 * (h + h.T)
    B, D = reference_B_D(net, theta, X, y, layer, r)
    u, v = net.incoming_indices(layer, r), net.outgoing_indices(layer, r)
    w = np.setdiff1d(np.arange(net.n_params), np.union1d(u, v))
    top = np.concatenate([u, v, w])
    scale = np.concatenate([np.ones(len(u)), 2 * np.ones(len(v)), np.ones(len(w))])
    nu, nv, nt = len(u), len(v), len(top)
    M = np.zeros((nt + nu + nv,) * 2)
    M[:nt, :nt] = scale[:, None] * h[np.ix_(top, top)] * scale[None, :]
    Vs, Ud, Vd = slice(nu, nu + nv), slice(nt, nt + nu), slice(nt + nu, nt + nu + nv)
    M[Vs, Ud] = 2 * c * (alpha - beta) * D.T
    M[Ud, Vs] = 2 * c * (alpha - beta) * D
    M[Ud, Ud] = 2 * c * alpha * beta * B
    M[Ud, Vd] = 2 * c * (alpha + beta) * D
    M[Vd, Ud] = 2 * c * (alpha + beta) * D.T
    return M


@pytest.mark.parametrize("normalization", ["sum", "half"])
@pytest.mark.parametrize("widths,biases", EMBED_ARCHS)
def test_lemma1_at_arbitrary_points(widths, biases, normalization):
    """The block formula needs no critical point: at gamma_lambda(theta) of any theta, P^T H P equals it
    (the Gauss-Newton part vanishes in the u_diff directions since alpha lambda = beta (1 - lambda)).
    Checked against lemma1_hessian and against the matrix assembled in the test from eq. (1)-(2)."""
    net, theta, X, y = random_problem(widths, "tanh", biases, seed=21, n_samples=5)
    for layer in net.hidden_layers:
        r = 0
        for alpha, beta, lam in [(0.6, 0.4, 0.4), (1.0, 1.0, 0.5), (-1.0, 3.0, 1.5)]:
            big, tb = embed_neuron(net, theta, layer, r, lam)
            M, basis = lemma1_hessian(SquaredLoss(net, X, y, normalization), theta, layer, r, lam, alpha, beta)
            direct = basis.matrix.T @ SquaredLoss(big, X, y, normalization).hessian(tb) @ basis.matrix
            ours = paper_lemma1_matrix(net, theta, X, y, layer, r, alpha, beta, normalization)
            scale = max(1.0, np.abs(direct).max())
            assert np.abs(M - ours).max() <= 1e-11 * scale
            assert np.abs(direct - M).max() <= 1e-10 * scale
            # and the 000 matrices without the factor 2c would be wrong by a visible amount
            bl = basis.blocks
            assert np.abs(M[bl["u_diff"], bl["v_diff"]]).max() > 1e-6


def test_lemma1_basis_layout():
    net = Network((2, 3, 2, 1), "tanh", biases=True)
    basis = lemma1_basis(net, 1, 2, 0.6, 0.4)
    big = net.with_widths((2, 4, 2, 1))
    P, bl = basis.matrix, basis.blocks
    assert P.shape == (big.n_params, big.n_params)
    nu, nv = 3, 2
    assert [bl[k].stop - bl[k].start for k in ("u_sum", "v_sum", "w_bar", "u_diff", "v_diff")] == \
        [nu, nv, net.n_params - nu - nv, nu, nv]
    assert np.array_equal(basis.u_small, net.incoming_indices(1, 2))
    assert np.array_equal(basis.v_small, net.outgoing_indices(1, 2))
    assert sorted(np.concatenate([basis.u_small, basis.v_small, basis.w_bar_small])) == list(range(net.n_params))
    u_m, u_r = big.incoming_indices(1, 3), big.incoming_indices(1, 2)
    v_m, v_r = big.outgoing_indices(1, 3), big.outgoing_indices(1, 2)
    for k in range(nu):
        col = np.zeros(big.n_params); col[u_m[k]] = 1; col[u_r[k]] = 1                       # noqa: E702
        assert np.array_equal(P[:, bl["u_sum"]][:, k], col)
        col = np.zeros(big.n_params); col[u_m[k]] = 0.6; col[u_r[k]] = -0.4                  # noqa: E702
        assert np.array_equal(P[:, bl["u_diff"]][:, k], col)
    for s in range(nv):
        col = np.zeros(big.n_params); col[v_m[s]] = 1; col[v_r[s]] = 1                       # noqa: E702
        assert np.array_equal(P[:, bl["v_sum"]][:, s], col)
        col = np.zeros(big.n_params); col[v_m[s]] = 1; col[v_r[s]] = -1                      # noqa: E702
        assert np.array_equal(P[:, bl["v_diff"]][:, s], col)
    assert alpha_beta(0.25) == (0.75, 0.25)


# ------------------------------------------------------------------ directions
def test_degenerate_direction_is_d_by_d_lambda_and_keeps_the_loss():
    net, theta, X, y = random_problem((2, 3, 2, 1), "softplus", True, seed=2)
    layer, r, lam = 2, 1, 0.3
    big, tb = embed_neuron(net, theta, layer, r, lam)
    d = degenerate_direction(net, theta, layer, r)
    for t in (-2.0, -0.4, 0.9, 3.0):
        _, tt = embed_neuron(net, theta, layer, r, lam + t)
        assert np.allclose(tb + t * d, tt, rtol=1e-14, atol=1e-14)
    obj = SquaredLoss(big, X, y)
    L0 = obj.value(tb)
    for t in (-3.0, -1.0, 0.5, 2.0, 5.0):
        assert abs(obj.value(tb + t * d) - L0) <= 1e-12 * L0
    # H d = d/dlambda grad L(gamma_lambda) = (g_u at u_{-1}, -g_u at u_r, 0 elsewhere), at any point
    g = SquaredLoss(net, X, y).gradient(theta)
    expect = np.zeros(big.n_params)
    expect[big.incoming_indices(layer, new_neuron(net, layer))] = g[net.incoming_indices(layer, r)]
    expect[big.incoming_indices(layer, r)] = -g[net.incoming_indices(layer, r)]
    assert np.allclose(obj.hvp(tb, d), expect, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", LEMMA1_CASES, ids=lambda c: f"{c[0]}-{'-'.join(map(str, c[1]))}")
def test_degenerate_direction_is_in_the_kernel_at_gamma_of_a_critical_point(case):
    net, theta, X, y, _ = critical_point(*case)
    for layer in net.hidden_layers:
        big, tb = embed_neuron(net, theta, layer, 0, 0.4)
        obj = SquaredLoss(big, X, y)
        d = degenerate_direction(net, theta, layer, 0)
        H = obj.hessian(tb)
        assert np.linalg.norm(d) > 0.1
        assert np.abs(H @ d).max() <= 1e-8 * max(1.0, np.abs(H).max())
        L0 = obj.value(tb)
        vals = [obj.value(tb + t * d) for t in np.linspace(-2, 2, 9)]
        assert np.abs(np.array(vals) - L0).max() <= 1e-12 * L0


@pytest.mark.parametrize("lam", [0.3, 1.7, -0.6])
@pytest.mark.parametrize("case", [("gelu", (2, 2, 2, 1), True, 0), ("mish", (2, 2, 2, 1), False, 1),
                                  ("softplus", (2, 1, 2, 1), False, 0)],
                         ids=lambda c: f"{c[0]}-{'-'.join(map(str, c[1]))}")
def test_descent_direction_where_D_is_not_zero(case, lam):
    """Lemma 8(b) / proof of Theorem 6: D != 0 gives negative curvature at gamma_lambda(critical point)."""
    net, theta, X, y, _ = critical_point(*case)
    layer, r = 1, 0
    D, scale = D_matrix(SquaredLoss(net, X, y), theta, layer, r, return_scale=True)
    assert np.abs(D).max() > 1e-3 * scale.max()
    big, tb = embed_neuron(net, theta, layer, r, lam)
    obj = SquaredLoss(big, X, y)
    d, curv = descent_direction(SquaredLoss(net, X, y), theta, layer, r, lam)
    assert d.shape == (big.n_params,) and np.isclose(np.linalg.norm(d), 1.0, rtol=1e-14)
    H = obj.hessian(tb)
    assert curv < 0
    assert np.isclose(d @ H @ d, curv, rtol=1e-7, atol=1e-9 * np.abs(H).max())
    # the loss goes down along d: L(t) = L0 + curv t^2 / 2 + O(t^3)
    L0, t = obj.value(tb), 1e-3
    Lp, Lm = obj.value(tb + t * d), obj.value(tb - t * d)
    assert Lp < L0 and Lm < L0
    assert np.isclose((Lp + Lm - 2 * L0) / t**2, curv, rtol=1e-3)
    # with the 1/2 normalisation the prediction refers to the halved Hessian
    d_half, curv_half = descent_direction(SquaredLoss(net, X, y, "half"), theta, layer, r, lam)
    assert curv_half < 0
    assert np.isclose(d_half @ (H / 2) @ d_half, curv_half, rtol=1e-7, atol=1e-9 * np.abs(H).max())


def test_descent_direction_where_D_is_zero_and_B_indefinite():
    net, theta, X, y, _ = critical_point("tanh", (2, 2, 1), True, 0)
    B = B_matrix(SquaredLoss(net, X, y), theta, 1, 1)
    ev = np.linalg.eigvalsh(B)
    assert ev[0] < 0 < ev[-1]                                         # indefinite: saddles for every lambda
    for lam in (0.3, 2.5):
        big, tb = embed_neuron(net, theta, 1, 1, lam)
        d, curv = descent_direction(SquaredLoss(net, X, y), theta, 1, 1, lam)
        H = SquaredLoss(big, X, y).hessian(tb)
        assert curv < 0 and np.isclose(d @ H @ d, curv, rtol=1e-7)
        # Lemma 1 with D = 0: the u_diff block is 2c alpha beta B; d is its lowest eigenvector, mapped by P
        a, b = alpha_beta(lam)
        w, V = np.linalg.eigh(2 * a * b * B)
        basis = lemma1_basis(net, 1, 1, a, b)
        d_pred = basis.matrix[:, basis.blocks["u_diff"]] @ V[:, 0]
        assert np.isclose(curv, w[0] / (d_pred @ d_pred), rtol=1e-10)
        assert np.isclose(abs(d @ d_pred) / np.linalg.norm(d_pred), 1.0, rtol=1e-10)


def test_fukumizu_amari_local_minimum_and_saddle():
    """Theorem 5 of 000: B positive definite at a local minimum of 2-1-1: gamma_lambda is a local minimum
    for lambda in (0, 1) (descent_direction refuses) and a saddle for lambda outside [0, 1]."""
    net, theta, X, y, cp = critical_point("gelu", (2, 1, 1), True, 1)
    assert cp.eigenvalues[0] > 1e-6                                    # a strict local minimum
    B = B_matrix(SquaredLoss(net, X, y), theta, 1, 0)
    verdict = definiteness(B)
    assert verdict.positive_definite and verdict.margin > 1e6
    for lam in (0.2, 0.5, 0.9):
        with pytest.raises(ValueError, match="no negative curvature"):
            descent_direction(SquaredLoss(net, X, y), theta, 1, 0, lam)
        big, tb = embed_neuron(net, theta, 1, 0, lam)
        ev = np.linalg.eigvalsh(SquaredLoss(big, X, y).hessian(tb))
        assert ev[0] >= -1e-9 * ev[-1]                                   # positive semidefinite
    for lam in (-0.5, 1.5):
        big, tb = embed_neuron(net, theta, 1, 0, lam)
        H = SquaredLoss(big, X, y).hessian(tb)
        d, curv = descent_direction(SquaredLoss(net, X, y), theta, 1, 0, lam)
        assert curv < 0 and np.isclose(d @ H @ d, curv, rtol=1e-7)
        assert np.linalg.eigvalsh(H)[0] < 0


# ---------------------------------------------------------------- definiteness
def rotated(eigs, seed=0):
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((len(eigs), len(eigs))))
    M = Q @ np.diag(eigs) @ Q.T
    return 0.5 * (M + M.T)


@pytest.mark.parametrize("eigs,verdict", [
    ([1.0, 2.0, 3.0], "positive definite"),
    ([-1.0, -2.0, -0.5], "negative definite"),
    ([0.0, 2.0, 3.0], "positive semidefinite"),
    ([0.0, -2.0, 0.0], "negative semidefinite"),
    ([-1.0, 0.0, 3.0], "indefinite"),
    ([-1.0, 3.0], "indefinite"),
    ([0.0, 0.0], "zero"),
    ([5.0], "positive definite"),
])
def test_definiteness_verdicts(eigs, verdict):
    res = definiteness(rotated(eigs))
    assert res.verdict == verdict
    assert np.allclose(res.eigenvalues, sorted(eigs), atol=1e-12)
    assert res.positive_definite == (verdict == "positive definite")
    assert res.negative_definite == (verdict == "negative definite")
    assert res.definite == (verdict in ("positive definite", "negative definite"))
    assert verdict in str(res)


def test_definiteness_tolerances_and_margin():
    M = np.diag([1.0, 1e-20])
    assert definiteness(M).verdict == "positive semidefinite"          # 1e-20 is round-off of a unit matrix
    strict = definiteness(M, rtol=0.0)
    assert strict.verdict == "positive definite"
    assert definiteness(np.diag([1.0, -0.1]), atol=0.5).verdict == "positive semidefinite"
    assert definiteness(np.diag([1.0, -0.1]), atol=0.05).verdict == "indefinite"
    res = definiteness(np.diag([4.0, 2.0]), atol=0.5)
    assert res.tol == 0.5 and np.isclose(res.margin, 4.0)
    res = definiteness(np.diag([3.0, 1.0]))
    assert np.isclose(res.tol, 100 * 2 * np.finfo(float).eps * 3.0)
    assert np.isclose(res.margin, 1.0 / res.tol)
    # scale invariance of the default (relative) tolerance
    for s in (1e-12, 1.0, 1e12):
        assert definiteness(s * rotated([1.0, 0.0, 2.0], seed=3)).verdict == "positive semidefinite"
    assert definiteness(rotated([1.0, 1e-3])).margin > 1e9


def test_definiteness_bad_input():
    with pytest.raises(ValueError, match="square"):
        definiteness(np.ones((2, 3)))
    with pytest.raises(ValueError, match="square"):
        definiteness(np.ones(3))
    with pytest.raises(ValueError, match="square"):
        definiteness(np.zeros((0, 0)))
    with pytest.raises(ValueError, match="symmetric"):
        definiteness(np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="non-finite"):
        definiteness(np.array([[1.0, np.nan], [np.nan, 1.0]]))
    with pytest.raises(ValueError, match="non-finite"):
        definiteness(np.array([[np.inf, 0.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="atol"):
        definiteness(np.eye(2), atol=-1.0)
    with pytest.raises(ValueError, match="rtol"):
        definiteness(np.eye(2), rtol=-1.0)


def test_semidefinite_properties_include_the_zero_matrix():
    """Lemma 8 asks "is x positive semidefinite?": the zero matrix is."""
    zero = definiteness(np.zeros((2, 2)))
    assert zero.verdict == "zero" and zero.positive_semidefinite and zero.negative_semidefinite
    assert not zero.positive_definite and not zero.negative_definite
    psd, nsd = definiteness(np.diag([0.0, 1.0])), definiteness(np.diag([0.0, -1.0]))
    assert psd.positive_semidefinite and not psd.negative_semidefinite
    assert nsd.negative_semidefinite and not nsd.positive_semidefinite
    ind = definiteness(np.diag([-1.0, 1.0]))
    assert not ind.positive_semidefinite and not ind.negative_semidefinite
    assert definiteness(np.eye(2)).positive_semidefinite and definiteness(-np.eye(2)).negative_semidefinite


def test_definiteness_rejects_nan_tolerance():
    with pytest.raises(ValueError, match="atol"):
        definiteness(np.eye(2), atol=float("nan"))


@pytest.mark.parametrize("branch", ["D zero", "D not zero"])
def test_descent_direction_sign_does_not_depend_on_lapack(monkeypatch, branch):
    """The sign of an eigen/singular vector is LAPACK's (machine-dependent) choice; the returned
    direction must not follow it (chapter G6: +d and -d lead to different places)."""
    if branch == "D zero":
        net, theta, X, y, _ = critical_point("tanh", (2, 2, 1), True, 0)
        args = (SquaredLoss(net, X, y), theta, 1, 1, 2.5)
    else:
        net, theta, X, y, _ = critical_point("tanh", (2, 2, 1), True, 0)
        theta = theta + 0.05                                          # not critical: D != 0
        args = (SquaredLoss(net, X, y), theta, 1, 1, 0.3)
    d, curv = descent_direction(*args)
    i = int(np.argmax(np.abs(d)))
    assert d[i] > 0
    eigh, svd = np.linalg.eigh, np.linalg.svd

    def eigh_flipped(a, *k, **kw):
        w, v = eigh(a, *k, **kw)
        return w, -v

    def svd_flipped(a, *k, **kw):
        u, s, vt = svd(a, *k, **kw)
        return -u, s, -vt

    monkeypatch.setattr(np.linalg, "eigh", eigh_flipped)
    monkeypatch.setattr(np.linalg, "svd", svd_flipped)
    d2, curv2 = descent_direction(*args)
    assert np.array_equal(d, d2) and curv == curv2


def test_canonical_sign():
    from lossland.embedding import canonical_sign
    assert np.array_equal(canonical_sign([0.1, -0.9, 0.3]), [-0.1, 0.9, -0.3])
    assert np.array_equal(canonical_sign([0.1, 0.9, 0.3]), [0.1, 0.9, 0.3])
    # a near tie (within rtol) is decided by the first of the tied entries, not by round-off
    v = np.array([0.5, -0.5 * (1 + 1e-12), 0.1])
    assert canonical_sign(v)[0] > 0 and canonical_sign(-v)[0] > 0
    with pytest.raises(ValueError, match="v must be"):
        canonical_sign([np.nan, 1.0])
    with pytest.raises(ValueError, match="v must be"):
        canonical_sign(np.zeros((2, 2)))
