import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from lossland.plotting import frame_slider


def _draw(fig, a):
    ax = fig.subplots()
    ax.plot(np.linspace(0, 1, 20), a * np.linspace(0, 1, 20))
    ax.set_ylim(-3, 3)


def test_frame_slider_one_frame_per_value_with_alt_text():
    s = frame_slider(_draw, [-2.0, 0.0, 2.0], label="a", alt="a line of slope a")
    assert len(s.frames) == 3 and s.distinct_frames == 3
    assert 'alt="a line of slope a"' in s._repr_html_()
    assert 'type="range"' in s.html and "https://" not in s.html  # nothing from the network
    assert repr(s) == "<figure with a kernel-free slider: 3 frames, a from -2 to 2>"


def test_frame_slider_identical_frames_are_counted_once():
    s = frame_slider(lambda fig, a: fig.subplots(), [0.0, 1.0], label="a", alt="empty",
                     fmt="{:.0f}")
    # the title differs, so two distinct frames; an undrawn value would repeat
    assert s.distinct_frames == 2


@pytest.mark.parametrize("kwargs, err, match", [
    (dict(values=[1.0]), ValueError, "values"),
    (dict(alt=""), TypeError, "alt"),
    (dict(label=3), TypeError, "label"),
    (dict(max_bytes=100), ValueError, "max_bytes"),
    (dict(dpi=5), ValueError, "dpi"),
])
def test_frame_slider_rejects_bad_input(kwargs, err, match):
    args = dict(values=[0.0, 1.0], label="a", alt="x") | kwargs
    with pytest.raises(err, match=match):
        frame_slider(_draw, **args)


def test_frame_slider_rejects_non_callable():
    with pytest.raises(TypeError, match="draw"):
        frame_slider("plot", [0.0, 1.0], label="a", alt="x")
