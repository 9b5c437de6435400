"""lossland.nonattracting.toy_figures: figures of the toy landscapes (chapter P1)."""
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from lossland.nonattracting.toy import TOYS, flow_and_path
from lossland.nonattracting.toy_figures import (draw_curves, draw_explorer, draw_landscape,
                                                normalised_arclength)


def test_normalised_arclength():
    pts = np.array([[0.0, 0.0], [3.0, 4.0], [3.0, 9.0]])       # segment lengths 5 and 5
    assert np.allclose(normalised_arclength(pts), [0.0, 0.5, 1.0])
    assert np.array_equal(normalised_arclength(np.zeros((3, 2))), np.zeros(3))
    with pytest.raises(ValueError, match="points"):
        normalised_arclength(np.zeros((3, 3)))


@pytest.mark.parametrize("name", sorted(TOYS))
def test_draw(name):
    fig, (a0, a1) = plt.subplots(1, 2)
    draw_landscape(a0, name)
    flow, path = draw_curves(a0, a1, name, (0.3, 0.5), "k", t_max=20.0)
    ref_flow, ref_path = flow_and_path(name, (0.3, 0.5), 20.0)
    assert np.array_equal(flow, ref_flow)
    assert (path is None) == TOYS[name].attracting
    # the value panel holds f along the flow against its normalised arc length
    x, v = a1.lines[0].get_data()
    assert np.allclose(x, normalised_arclength(flow)) and np.allclose(v, TOYS[name].value(flow))
    assert a0.get_xlim() == (-0.8, 0.8)
    with pytest.raises(ValueError, match="lim"):
        draw_landscape(a0, name, lim=(1, 0, 0, 1))
    plt.close(fig)


@pytest.mark.parametrize("name", sorted(TOYS))
def test_draw_explorer(name):
    fig = plt.figure()
    flow, path = draw_explorer(fig, name, (0.3, 0.5), t_max=20.0)
    ref_flow, ref_path = flow_and_path(name, (0.3, 0.5), 20.0)
    assert np.array_equal(flow, ref_flow) and (path is None) == TOYS[name].attracting
    assert len(fig.axes) == 2
    title = fig.axes[1].get_title()
    assert f"flow ends at f = {float(TOYS[name].value(flow[-1])):.3f}" in title
    assert ("no non-increasing path" in title) == TOYS[name].attracting
    assert fig.axes[1].get_ylim()[0] >= TOYS[name].region_value - 1.1
    plt.close(fig)
