"""Input checks shared by the modules: one wording for every error message.

Every public function of lossland validates its arguments and raises
``ValueError`` or ``TypeError`` naming the argument and what was expected.
"""
from __future__ import annotations

from numbers import Integral, Real

import numpy as np

__all__ = ["as_float_array", "check_real", "check_int"]


def as_float_array(value, name: str, ndim: int | None = None) -> np.ndarray:
    """``value`` as a finite float array (of dimension ``ndim`` if given).

    Raises ``TypeError`` if it is not numeric, ``ValueError`` for a wrong
    dimension or NaN/inf entries; the message names ``name``.
    """
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of real numbers ({exc})") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-d array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains non-finite values (NaN or inf)")
    return arr


def check_real(value, name: str, *, positive: bool = False, nonzero: bool = False,
               low: float | None = None, high: float | None = None) -> float:
    """``value`` as a finite float, optionally positive, nonzero or in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    if nonzero and value == 0:
        raise ValueError(f"{name} must be nonzero")
    if low is not None and value < low or high is not None and value > high:
        raise ValueError(f"{name} must lie in [{low}, {high}], got {value!r}")
    return value


def check_int(value, name: str, low: int) -> int:
    """``value`` as an int >= ``low`` (bools rejected)."""
    if isinstance(value, bool) or not isinstance(value, (Integral, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}")
    return int(value)
