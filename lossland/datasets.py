"""Data sets of the papers: teacher-student regression data.

Paper 000 Section V-B/V-D and 001 Section 5.2-5.4 build data from a larger
"teacher" network so that the teacher's architecture reaches zero loss while
a smaller student cannot.
"""
from __future__ import annotations

import numpy as np

from .network import Network

__all__ = ["teacher_student"]


def teacher_student(teacher: Network, n_samples: int, rng, *, low: float = -1.0, high: float = 1.0,
                    theta=None, weight_scale: float = 1.0):
    """Inputs uniform in [low, high)^{n_0} and targets y = f_teacher(x).

    Returns ``(X, y, theta_teacher)``. With ``theta=None`` the teacher's
    parameters are i.i.d. normal with standard deviation ``weight_scale``.
    ``rng`` is a :class:`numpy.random.Generator` or a seed.
    """
    if not isinstance(teacher, Network):
        raise TypeError(f"teacher must be a lossland.Network, got {type(teacher).__name__}")
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"need finite low < high, got low={low!r}, high={high!r}")
    rng = np.random.default_rng(rng)
    theta = teacher.init_params(rng, weight_scale) if theta is None else teacher.check_params(theta)
    X = rng.uniform(low, high, size=(int(n_samples), teacher.widths[0]))
    return X, teacher(theta, X), theta
