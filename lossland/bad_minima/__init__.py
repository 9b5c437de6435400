"""Part IV: bad local minima of narrow networks with general smooth activations (paper 004).

One module per result of 004; the core (activations, networks, exact
derivatives, the neuron embedding) comes from :mod:`lossland`, and nothing
here imports another part.

* :mod:`.function_sets`: the catalogue of 004's function sets (B2 of Assumption 1,
  the two readings of B3 of Lemma 3, the 19 of the expansion at W-hat, Claims 1, 2).
* :mod:`.independence`: their linear independence, exactly (generators, Lemmas 1, 4)
  and numerically (singular values, the reduction set of eq. (109)); Appendix B.
* :mod:`.partially_linear`: an activation linear on an interval (Proposition 1).
* :mod:`.proposition1`: the minimum borrowed from linear regression (Proposition 1, eq. (28)-(31)).
* :mod:`.proposition2`: the strict minimum of the 1-1-1 network for N >= 7 (Proposition 2, eq. (49)-(76)).
* :mod:`.perturbation`: the minimum survives perturbed data (Lemma 2, Lemma 5, Proposition 3).
* :mod:`.proposition4`: the strict minimum of the 1-1-1-1 network (Proposition 4, eq. (100)-(143)).
* :mod:`.splitting`: the embedded minima and the way out (Theorems 3 and 4, Lemma 13, Definition 1).

:data:`PAPER_ACTIVATIONS` are the activations of 004, Lemmas 1 and 4 (Swish
with beta = 0.5 and 2), and :func:`activation_label` names one in tables.
"""
from __future__ import annotations

from ..activations import SMOOTH_ACTIVATIONS, Activation, get_activation

__all__ = ["PAPER_ACTIVATIONS", "paper_activations", "activation_label"]

_PAPER_NAMES = ("tanh", "sigmoid", "silu", "softplus", "gelu", "swish", "mish")
assert set(_PAPER_NAMES) <= set(SMOOTH_ACTIVATIONS)


def paper_activations(swish_betas=(0.5, 2.0)) -> tuple[Activation, ...]:
    """The activations of 004, Lemmas 1 and 4, in the book's order, with Swish for each beta given."""
    if isinstance(swish_betas, (str, bytes)) or not hasattr(swish_betas, "__iter__"):
        raise TypeError(f"swish_betas must be a sequence of positive numbers, got {swish_betas!r}")
    out = []
    for name in _PAPER_NAMES:
        if name == "swish":
            out += [get_activation("swish", beta=b) for b in swish_betas]
        else:
            out.append(get_activation(name))
    return tuple(out)


PAPER_ACTIVATIONS: tuple[Activation, ...] = paper_activations()
"""tanh, sigmoid, SiLU, softplus, GELU, Swish (beta = 0.5, 2), Mish: the activations of 004's Lemmas 1 and 4."""

_SHORT = {"beta": ("b", "β"), "alpha": ("a", "α")}


def activation_label(activation, greek: bool = False) -> str:
    """A short name for tables: ``"swish(b=0.5)"`` (``greek=True``: ``"swish(β=0.5)"``).

    Shape parameters are shown when they differ from their default 1.
    """
    if not isinstance(activation, Activation):
        raise TypeError(f"activation must be an Activation, got {type(activation).__name__}")
    shown = [(k, v) for k, v in sorted(activation.params.items()) if v != 1.0]
    if not shown:
        return activation.name
    parts = [f"{_SHORT.get(k, (k, k))[1]}={v:g}" if greek else f"{_SHORT.get(k, (k, k))[0]}={v}" for k, v in shown]
    return f"{activation.name}({', '.join(parts)})"
