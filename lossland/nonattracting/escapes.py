"""Did a training run leave a region of suboptimal minima? (000 Corollary 1, 001 Corollary 3; chapter P13)

The corollary says whether a region is left depends on the procedure, not on
the loss surface alone. To compare procedures, every run of
:func:`lossland.training.gd` / :func:`lossland.training.sgd` started next to a
region of loss L* is classified by its final full-batch loss: below the
region (``< (1 - band) L*``), near it (within ``band L*``) or above it, and
timed by the first step at which its loss fell below ``(1 - band) L*``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validation import check_real
from ..training import Trajectory

__all__ = ["RunOutcome", "classify_runs"]


class RunOutcome(NamedTuple):
    """Per run: ``final`` loss, ``cls`` (-1 below, 0 near, 1 above L*), ``escape`` step.

    ``escape`` is the first step t with L(theta_t) < (1 - band) L*, or
    ``steps + 1`` if the run never got there.
    """

    final: np.ndarray
    cls: np.ndarray
    escape: np.ndarray


def classify_runs(trajectory: Trajectory, L_ref: float, band: float = 0.05) -> RunOutcome:
    """Classify the runs of ``trajectory`` against the region's loss ``L_ref`` (see :class:`RunOutcome`)."""
    if not isinstance(trajectory, Trajectory):
        raise TypeError(f"trajectory must be a lossland.training.Trajectory, got {type(trajectory).__name__}")
    L_ref = check_real(L_ref, "L_ref", positive=True)
    band = check_real(band, "band", positive=True, high=1.0)
    losses = np.asarray(trajectory.losses)
    final = losses[-1]
    lo, hi = (1 - band) * L_ref, band * L_ref
    cls = np.where(final < lo, -1, np.where(np.abs(final - L_ref) <= hi, 0, 1))
    below = losses < lo
    escape = np.where(below.any(axis=0), np.argmax(below, axis=0), trajectory.steps + 1)
    return RunOutcome(final, cls, escape)
