"""Input checks shared by the modules: one wording for every error message.

Every public function of lossland validates its arguments and raises
``TypeError`` (wrong kind of value: a string, a bool or a complex number
where a real number or an integer is expected, an object of the wrong
class) or ``ValueError`` (right kind, wrong value: NaN, out of range, wrong
shape), with a message that names the argument and says what was expected.
Numpy scalars (``np.float32``, ``np.int64``) are accepted wherever Python
numbers are; bools are never taken for numbers.
"""
from __future__ import annotations

import platform
from numbers import Integral, Real

import numpy as np

__all__ = ["as_float_array", "check_vector", "check_real", "check_int", "check_bool", "check_choice",
           "check_callable", "check_rng", "check_network", "check_objective", "check_dps", "versions"]

_NOT_REAL_KINDS = {"b": "bool", "c": "complex", "U": "string", "S": "bytes", "V": "structured",
                   "M": "datetime", "m": "timedelta"}


def _array_type_error(name, what):
    return TypeError(f"{name} must be an array of real numbers, got {what}")


def as_float_array(value, name: str, ndim: int | None = None) -> np.ndarray:
    """``value`` as a finite float array (of dimension ``ndim`` if given).

    Raises ``TypeError`` if it is not an array of real numbers (strings,
    bools, complex numbers and ``None`` are refused rather than converted),
    ``ValueError`` for a wrong dimension or NaN/inf entries; the message
    names ``name``.
    """
    if isinstance(value, np.ndarray) and value.dtype == np.float64:
        arr = value                                      # the common case, no conversion
    else:
        if value is None or isinstance(value, (str, bytes)):
            raise _array_type_error(name, repr(value))
        try:
            raw = np.asarray(value)
        except (TypeError, ValueError) as exc:
            raise _array_type_error(name, f"{type(value).__name__} ({exc})") from None
        kind = raw.dtype.kind
        if kind in _NOT_REAL_KINDS:
            raise _array_type_error(name, f"{_NOT_REAL_KINDS[kind]} entries")
        if kind == "O":
            for item in raw.flat:
                if item is None or isinstance(item, (bool, np.bool_, str, bytes, complex, np.complexfloating)):
                    raise _array_type_error(name, f"an entry {item!r}")
        try:
            arr = raw.astype(float, copy=False)
        except (TypeError, ValueError) as exc:
            raise _array_type_error(name, f"{raw.dtype} entries ({exc})") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-d array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains non-finite values (NaN or inf)")
    return arr


def check_vector(value, name: str, size: int | None = None, *, nonempty: bool = True) -> np.ndarray:
    """``value`` as a finite 1-d float array (of length ``size`` if given)."""
    arr = as_float_array(value, name, ndim=1)
    if size is not None and arr.shape[0] != size:
        raise ValueError(f"{name} must have length {size}, got {arr.shape[0]}")
    if nonempty and arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    return arr


def check_real(value, name: str, *, positive: bool = False, nonzero: bool = False,
               low: float | None = None, high: float | None = None) -> float:
    """``value`` as a finite float, optionally positive, nonzero or in [low, high]."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    if nonzero and value == 0:
        raise ValueError(f"{name} must be nonzero")
    if low is not None and value < low or high is not None and value > high:
        raise ValueError(f"{name} must be {_range(low, high)}, got {value!r}")
    return value


def check_int(value, name: str, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int (numpy integers accepted, bools refused), optionally in [low, high]."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Integral, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if low is not None and value < low or high is not None and value > high:
        raise ValueError(f"{name} must be {_range(low, high)}, got {value!r}")
    return value


def _range(low, high) -> str:
    if high is None:
        return f">= {low}"
    if low is None:
        return f"<= {high}"
    return f"in [{low}, {high}]"


def check_bool(value, name: str) -> bool:
    """``value`` as a bool (``True``/``False`` or a numpy bool; 0, 1 and strings are refused)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_choice(value, name: str, choices):
    """``value`` if it is one of ``choices`` (TypeError for a value of another type, e.g. a list)."""
    choices = list(choices)
    if not any(isinstance(value, type(c)) for c in choices):
        raise TypeError(f"{name} must be one of {choices}, got {value!r}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_callable(value, name: str):
    """``value`` if it can be called."""
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {type(value).__name__}")
    return value


def check_rng(rng, name: str = "rng") -> np.random.Generator:
    """A :class:`numpy.random.Generator`, or one made from a non-negative integer seed.

    ``None`` is refused: every random draw of the book must be reproducible.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (bool, np.bool_)) or not isinstance(rng, (Integral, np.integer)):
        raise TypeError(f"{name} must be a numpy.random.Generator or an integer seed, got {rng!r}")
    if rng < 0:
        raise ValueError(f"{name} must be a non-negative seed, got {rng!r}")
    return np.random.default_rng(int(rng))


def check_network(net, name: str = "net"):
    """``net`` if it is a :class:`lossland.Network`."""
    from .network import Network          # here: network.py imports this module
    if not isinstance(net, Network):
        raise TypeError(f"{name} must be a lossland.Network, got {type(net).__name__}")
    return net


def check_objective(objective, name: str = "objective", general: bool = False):
    """``objective`` if it is a :class:`lossland.SquaredLoss`.

    With ``general``, a :class:`lossland.objective.Objective` (any loss, m
    outputs) is accepted too: for functions that use only the value and the
    exact derivatives.
    """
    from .derivatives import SquaredLoss  # here: derivatives.py imports this module
    if general:
        from .objective import Objective
        if not isinstance(objective, (SquaredLoss, Objective)):
            raise TypeError(f"{name} must be a lossland.SquaredLoss or a lossland.objective.Objective, "
                            f"got {type(objective).__name__}")
        return objective
    if not isinstance(objective, SquaredLoss):
        raise TypeError(f"{name} must be a lossland.SquaredLoss, got {type(objective).__name__}")
    return objective


def check_dps(dps, low: int = 15, high: int = 1000, *, allow_none: bool = False):
    """mpmath working precision: an integer number of decimal digits in [low, high].

    With ``allow_none``, ``None`` (meaning float64 arithmetic) passes through.
    """
    if dps is None and allow_none:
        return None
    what = "None (float64) or an integer" if allow_none else "an integer"
    if isinstance(dps, (bool, np.bool_)) or not isinstance(dps, (Integral, np.integer)):
        raise TypeError(f"dps must be {what}, got {dps!r}")
    if not low <= dps <= high:
        raise ValueError(f"dps must be {what} in [{low}, {high}], got {dps!r}")
    return int(dps)


def versions() -> dict:
    """Versions of Python, numpy, scipy and lossland, stored with every saved result."""
    import scipy

    from . import __version__
    return {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
            "lossland": __version__}
