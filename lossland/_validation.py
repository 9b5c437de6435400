"""Input checks shared by the modules: one wording for every error message.

Every public function of lossland validates its arguments and raises
``ValueError`` or ``TypeError`` naming the argument and what was expected.
"""
from __future__ import annotations

import numpy as np

__all__ = ["as_float_array"]


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
