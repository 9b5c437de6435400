"""lossland.nonattracting.toy: the toy landscapes of Definition 1 (000 Fig. 1, 001 Figure 1)."""
import numpy as np
import pytest
import sympy as sp

from lossland.nonattracting.toy import (TOYS, FlowResult, ToyFunction, flow_escapes, flow_invariant, flow_limit,
                          get_toy, gradient_flow, is_non_increasing, non_increasing_path,
                          path_max_increase)

NON_ATTRACTING = ["fig1_000", "fig1_001"]


def test_registry_and_formulas():
    x, y = ToyFunction.symbols
    assert set(TOYS) == {"fig1_000", "fig1_001", "attracting"}
    assert sp.expand(TOYS["fig1_000"].expr - 5 * x**4 * (1 - y**2)) == 0        # 000, Fig. 1
    assert sp.expand(TOYS["fig1_001"].expr - x**2 * (1 - y**2)) == 0            # 001, Figure 1
    assert [TOYS[n].latex for n in ("fig1_000", "fig1_001")] == ["5x^4(1 - y^2)", "x^2(1 - y^2)"]
    assert get_toy("fig1_001") is TOYS["fig1_001"]
    assert get_toy(TOYS["attracting"]) is TOYS["attracting"]
    assert [get_toy(n).attracting for n in ("fig1_000", "fig1_001", "attracting")] == [False, False, True]


@pytest.mark.parametrize("name", sorted(TOYS))
def test_value_gradient_hessian_match_sympy(name, rng):
    toy = TOYS[name]
    x, y = toy.symbols
    f = sp.lambdify((x, y), toy.expr, "numpy")
    g = sp.lambdify((x, y), [sp.diff(toy.expr, v) for v in (x, y)], "numpy")
    H = sp.lambdify((x, y), sp.hessian(toy.expr, (x, y)).tolist(), "numpy")
    Z = rng.uniform(-2, 2, size=(50, 2))
    assert np.allclose(toy.value(Z), f(Z[:, 0], Z[:, 1]), rtol=1e-13, atol=1e-13)
    assert np.allclose(toy.gradient(Z), np.stack(g(Z[:, 0], Z[:, 1]), -1), rtol=1e-13, atol=1e-13)
    for z, Hz in zip(Z, toy.hessian(Z)):
        assert np.allclose(Hz, np.array(H(*z), dtype=float), rtol=1e-13, atol=1e-13)
    # broadcasting: a grid (4, 3, 2) of points gives values (4, 3), gradients (4, 3, 2)
    G = Z[:12].reshape(4, 3, 2)
    assert toy.value(G).shape == (4, 3) and toy.gradient(G).shape == (4, 3, 2)
    assert toy.hessian(G).shape == (4, 3, 2, 2)
    assert np.allclose(toy.value(G).ravel(), toy.value(Z[:12]))


@pytest.mark.parametrize("name", sorted(TOYS))
def test_region_points_are_local_minima(name, rng):
    """Every (0, y0) in R: zero gradient, PSD Hessian, f >= c on a sampled ball (Definition 1)."""
    toy = TOYS[name]
    y_max = 0.95 if np.isfinite(toy.y_bound) else 3.0
    for y0 in np.linspace(-y_max, y_max, 9):
        z0 = np.array([0.0, y0])
        assert toy.in_region(z0)
        assert np.all(toy.gradient(z0) == 0)
        assert np.linalg.eigvalsh(toy.hessian(z0)).min() >= -1e-12
        assert toy.value(z0) == toy.region_value
        r = 0.5 * (1 - abs(y0)) if np.isfinite(toy.y_bound) else 0.5
        d = rng.standard_normal((400, 2))
        d *= (r * rng.uniform(0, 1, 400) / np.linalg.norm(d, axis=1))[:, None]
        assert toy.value(z0 + d).min() >= toy.region_value


@pytest.mark.parametrize("name", NON_ATTRACTING)
def test_axis_outside_region_is_not_a_minimum(name):
    """(0, y) with |y| >= 1 has value 0 but points of negative value arbitrarily close: R is maximal."""
    toy = TOYS[name]
    for y0 in (1.0, -1.0, 1.3, -2.0):
        assert not toy.in_region([0.0, y0])
        for eps in (1e-1, 1e-2, 1e-3):
            assert toy.value([eps, y0 + np.sign(y0) * eps]) < 0


STARTS = [(0.3, 0.5), (0.0, 0.2), (0.0, 0.0), (-0.2, -0.7), (1e-3, 0.99), (0.4, 1.8), (-0.05, 0.0)]


@pytest.mark.parametrize("name", NON_ATTRACTING)
@pytest.mark.parametrize("z0", STARTS)
def test_constructed_path_is_non_increasing_and_ends_below_c(name, z0):
    toy = TOYS[name]
    path = non_increasing_path(toy, z0, n_points=101)
    assert path.shape == (201, 2)
    assert np.array_equal(path[0], np.asarray(z0, dtype=float))
    assert path_max_increase(toy, path) <= 0.0
    assert is_non_increasing(toy, path)
    assert toy.value(path[-1]) < toy.region_value
    # reversed, the same samples go up: the checker can fail
    assert not is_non_increasing(toy, path[::-1])


def test_paths_exist_from_every_neighbourhood():
    """Definition 1, non-attracting: from points ever closer to R (and on R) a path goes below c."""
    for name in NON_ATTRACTING:
        for eps in (0.0, 1e-1, 1e-3, 1e-6):
            path = non_increasing_path(name, (eps, 0.4))
            assert is_non_increasing(name, path) and get_toy(name).value(path[-1]) < 0


def test_attracting_flow_stays_at_or_above_region_value(rng):
    """The attracting counterpart: gradient flows from near R keep f >= c and end on R."""
    toy = TOYS["attracting"]
    for z0 in rng.uniform([-0.4, -1.5], [0.4, 1.5], size=(12, 2)):
        res = gradient_flow(toy, z0, t_max=200.0)
        assert isinstance(res, FlowResult) and not res.escaped
        assert res.values.min() >= toy.region_value - 1e-12
        assert np.all(np.diff(res.values) <= 1e-12)          # the flow itself is non-increasing
        assert abs(res.end[0]) < 1e-8 and abs(res.end[1]) <= abs(z0[1]) + 1e-12


def test_attracting_flow_from_far_away_can_escape():
    """Attracting is about a neighbourhood: from x0^2 > 1 + y0^2 the flow goes below c."""
    res = gradient_flow("attracting", (1.2, 0.0), t_max=50.0)
    assert res.escaped and res.values[-1] < 0


@pytest.mark.parametrize("name", NON_ATTRACTING)
def test_flow_matches_invariant_prediction(name):
    """Escape verdict, conserved H and limit point of the flow of a x^k (1 - y^2)."""
    toy = TOYS[name]
    t_max = 1e3 if toy.k == 2 else 1e6
    for z0 in [(0.3, 0.5), (0.5, 0.9), (0.2, -0.3), (0.6, 0.6), (-0.25, 0.85)]:
        res = gradient_flow(toy, z0, t_max=t_max)
        assert res.escaped == flow_escapes(toy, z0)
        H = flow_invariant(toy, res.z)
        assert np.abs(H - H[0]).max() < 1e-7
        if not res.escaped:
            lim = flow_limit(toy, z0)
            assert lim is not None and toy.in_region(lim)
            assert np.abs(res.end - lim).max() < (1e-6 if toy.k == 2 else 1e-3)
        else:
            assert flow_limit(toy, z0) is None and res.values[-1] < toy.region_value


def test_slow_flow_of_the_quartic():
    """000's 5x^4(1-y^2): |x(t)| decays like t^(-1/2); 001's x^2(1-y^2): exponentially."""
    z0 = (0.3, 0.5)
    ts = np.array([1e2, 1e3, 1e4])
    quartic = gradient_flow("fig1_000", z0, t_max=1e4, t_eval=ts)
    quadratic = gradient_flow("fig1_001", z0, t_max=1e4, t_eval=ts)
    slope = np.diff(np.log(np.abs(quartic.z[:, 0]))) / np.diff(np.log(ts))
    assert np.allclose(slope, -0.5, atol=0.02)
    assert np.abs(quadratic.z[:, 0]).max() < 1e-10 < 1e-3 < np.abs(quartic.z[:, 0]).min()


def test_errors():
    with pytest.raises(TypeError, match="name"):
        get_toy(3)
    with pytest.raises(ValueError, match="name"):
        get_toy("x^2")
    toy = TOYS["fig1_001"]
    with pytest.raises(ValueError, match="z"):
        toy.value([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="z"):
        toy.gradient([np.nan, 0.0])
    with pytest.raises(TypeError, match="z"):
        toy.hessian("0, 1")
    with pytest.raises(ValueError, match="atol"):
        toy.in_region([0, 0], atol=-1)
    with pytest.raises(ValueError, match="z0"):
        gradient_flow(toy, [[0.1, 0.2]])
    with pytest.raises(ValueError, match="t_max"):
        gradient_flow(toy, (0.1, 0.2), t_max=-1.0)
    with pytest.raises(TypeError, match="t_max"):
        gradient_flow(toy, (0.1, 0.2), t_max="10")
    with pytest.raises(ValueError, match="value_below"):
        gradient_flow(toy, (0.1, 0.2), value_below=1.0)
    with pytest.raises(ValueError, match="max_norm"):
        gradient_flow(toy, (3.0, 4.0), max_norm=5.0)
    with pytest.raises(ValueError, match="method"):
        gradient_flow(toy, (0.1, 0.2), method="euler")
    with pytest.raises(ValueError, match="t_eval"):
        gradient_flow(toy, (0.1, 0.2), t_max=1.0, t_eval=[0.0, 2.0])
    with pytest.raises(ValueError, match="toy"):
        non_increasing_path("attracting", (0.1, 0.2))
    with pytest.raises(ValueError, match="toy"):
        flow_invariant("attracting", (0.1, 0.2))
    with pytest.raises(ValueError, match="y_end"):
        non_increasing_path(toy, (0.1, 0.2), y_end=0.9)
    with pytest.raises(ValueError, match="x_step"):
        non_increasing_path(toy, (0.1, 0.2), x_step=0.0)
    with pytest.raises(TypeError, match="n_points"):
        non_increasing_path(toy, (0.1, 0.2), n_points=10.0)
    with pytest.raises(ValueError, match="n_points"):
        non_increasing_path(toy, (0.1, 0.2), n_points=1)
    with pytest.raises(ValueError, match="path"):
        path_max_increase(toy, [[0.1, 0.2]])
    with pytest.raises(ValueError, match="rtol"):
        is_non_increasing(toy, [[0.1, 0.2], [0.1, 0.3]], rtol=-1.0)
    with pytest.raises(ValueError, match="z"):
        flow_invariant(toy, (0.1, 0.0))


@pytest.mark.parametrize("name", sorted(TOYS))
def test_flow_and_path(name):
    from lossland.nonattracting.toy import flow_and_path
    toy = TOYS[name]
    z0 = (0.35, 0.5)
    flow, path = flow_and_path(toy, z0, t_max=50.0, n_eval=50)
    assert np.array_equal(flow[0], z0) and flow.shape[1] == 2
    assert np.all(np.diff(toy.value(flow)) <= 1e-12)              # gradient flow never climbs
    # the same flow as gradient_flow at the same times
    t_eval = np.r_[0.0, np.geomspace(1e-3, 50.0, 50)]
    ref = gradient_flow(toy, z0, t_max=50.0, t_eval=t_eval, value_below=-1.0)
    assert np.allclose(flow, ref.z, atol=1e-12)
    if toy.attracting:
        assert path is None
    else:
        assert np.array_equal(path, non_increasing_path(toy, z0)) and toy.value(path[-1]) < 0
    with pytest.raises(ValueError, match="n_eval"):
        flow_and_path(toy, z0, 1.0, n_eval=0)
    with pytest.raises(ValueError, match="z0"):
        flow_and_path(toy, (1.0, 2.0, 3.0), 1.0)
