"""Fully connected regression networks: parameters, flat vectors, forward pass.

Conventions (paper 000, Section III-A and Appendix "Notation"; 001, Section 3):

* ``widths = (n_0, n_1, ..., n_L)``: layer 0 is the input, layers 1..L-1 are
  hidden, layer L is the output. Parts I and IV use one linear output
  (``n_L = 1``); paper 003 (Part II) allows m = n_L >= 1 outputs and an
  activation on the output layer (``output_activation``).
* Layer ``l`` has the weight matrix ``W[l]`` of shape ``(n_l, n_{l-1})``: the
  paper's w^l, whose entry ``W[l][i, j]`` is w^l_{i,j}, "the weight from neuron
  j of layer l-1 to neuron i of layer l". So the **row** index is the neuron
  of layer l (the output side) and the **column** index the neuron of layer
  l-1 (the input side). Biases ``b[l]`` (the paper's w^l_0) have shape
  ``(n_l,)``.
* Neurons are numbered from 0 in code; the paper's neuron k is code ``k-1``.
  Layers keep the paper's numbers (``W[1]`` is the first layer; ``W[0]``
  does not exist).
* The flat parameter vector lists, for l = 1..L, ``W[l]`` row by row and then
  ``b[l]`` (when biases are on).
* Samples are rows: inputs ``X`` have shape ``(N, n_0)``; pre-activations
  n(l; x) and activations act(l; x) of all samples form ``(N, n_l)`` arrays.
  No activation is applied at the output layer unless ``output_activation``
  is given (003, Section 2: f_L = sigma(g_L)).
* Paper 003 writes the same weights transposed: its W_l is ``W[l].T``
  (n_{l-1} x n_l), its F_l and G_l are ``act[l]`` and ``pre[l]`` (see
  :func:`lossland.objective.paper_matrices`).
"""
from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np

from ._validation import as_float_array, check_bool, check_real, check_rng
from .activations import Activation, get_activation

__all__ = ["Network", "Forward"]


@dataclass(frozen=True)
class Forward:
    """Result of :meth:`Network.forward`.

    ``pre[l]`` is n(l; x) and ``act[l]`` is act(l; x) for all samples
    (shape ``(N, n_l)``); ``act[0]`` is the input ``X`` and ``pre[0]`` is
    ``None``. ``output`` is f(x) with shape ``(N,)`` for one output and
    ``(N, m)`` for m > 1 outputs; ``act[L]`` (always ``(N, m)``) equals
    ``pre[L]`` when the output layer is linear.
    """

    pre: list
    act: list
    output: np.ndarray



class Network:
    """A fully connected network n_0 - n_1 - ... - n_{L-1} - n_L.

    Parameters
    ----------
    widths : sequence of int
        ``(n_0, ..., n_L)`` with every entry >= 1; a hidden layer is not
        required (``(n_0, 1)`` is linear regression). ``n_L`` is the number
        of outputs m (1 in Parts I and IV; :class:`lossland.SquaredLoss`
        needs m = 1, :class:`lossland.objective.Objective` takes any m).
    activation : str or Activation
        Applied at every hidden layer (see :mod:`lossland.activations`).
    biases : bool
        Whether every layer has bias terms w^l_0.
    output_activation : None, str or Activation
        ``None`` (default): a linear output layer. Otherwise applied at the
        output layer too, as in paper 003 (f_L = sigma(g_L)).
    """

    def __init__(self, widths, activation="sigmoid", biases: bool = True, output_activation=None,
                 **activation_params):
        if isinstance(widths, (str, bytes)) or not hasattr(widths, "__len__"):
            raise TypeError(f"widths must be a sequence of positive integers, got {widths!r}")
        ws = []
        for w in widths:
            if isinstance(w, bool) or not isinstance(w, Integral):
                raise TypeError(f"widths must contain integers, got {w!r}")
            if w < 1:
                raise ValueError(f"widths must be positive, got {tuple(widths)}")
            ws.append(int(w))
        if len(ws) < 2:
            raise ValueError(f"widths needs an input and an output width, got {tuple(ws)}")
        biases = check_bool(biases, "biases")
        self.widths: tuple[int, ...] = tuple(ws)
        self.activation: Activation = get_activation(activation, **activation_params)
        self.biases: bool = biases
        self.output_activation: Activation | None = (
            None if output_activation is None else get_activation(output_activation))
        self._slices = self._make_slices()

    # ----------------------------------------------------------------- layout
    @property
    def depth(self) -> int:
        """L, the number of layers after the input (hidden layers + output)."""
        return len(self.widths) - 1

    @property
    def n_outputs(self) -> int:
        """m = n_L, the number of outputs."""
        return self.widths[-1]

    @property
    def hidden_layers(self) -> range:
        """The paper's indices of the hidden layers, 1..L-1."""
        return range(1, self.depth)

    def _make_slices(self):
        slices, start = {}, 0
        for l in range(1, self.depth + 1):
            n_out, n_in = self.widths[l], self.widths[l - 1]
            slices[("W", l)] = slice(start, start + n_out * n_in)
            start += n_out * n_in
            if self.biases:
                slices[("b", l)] = slice(start, start + n_out)
                start += n_out
        self._n_params = start
        return slices

    @property
    def n_params(self) -> int:
        """Length of the flat parameter vector."""
        return self._n_params

    def check_layer(self, layer, *, hidden: bool = False, name: str = "layer") -> int:
        """Validate a layer index (1..L, or 1..L-1 when ``hidden``)."""
        if isinstance(layer, bool) or not isinstance(layer, Integral):
            raise TypeError(f"{name} must be an integer, got {layer!r}")
        hi = self.depth - 1 if hidden else self.depth
        if not 1 <= layer <= hi:
            kind = "hidden layer" if hidden else "layer"
            raise ValueError(f"{name}={layer} is out of range: this {self} has {kind}s 1..{hi}")
        return int(layer)

    def weight_slice(self, layer: int) -> slice:
        """Positions of ``W[layer]`` (row-major) in the flat vector."""
        return self._slices[("W", self.check_layer(layer))]

    def bias_slice(self, layer: int) -> slice:
        """Positions of ``b[layer]`` in the flat vector (error if biases are off)."""
        if not self.biases:
            raise ValueError("this network has no biases")
        return self._slices[("b", self.check_layer(layer))]

    @staticmethod
    def _check_index(value, name):
        if isinstance(value, bool) or not isinstance(value, Integral):
            raise TypeError(f"{name} must be an integer index, got {value!r}")
        return int(value)

    def check_hidden_neuron(self, layer, r) -> tuple[int, int]:
        """Validate a hidden layer (1..L-1) and a neuron index r of it; returns ``(layer, r)``."""
        layer = self.check_layer(layer, hidden=True)
        return layer, self.check_neuron(layer, r)

    def check_neuron(self, layer, r, name: str = "r") -> int:
        """Validate a neuron index r (from 0) of ``layer``."""
        layer = self.check_layer(layer)
        r = self._check_index(r, name)
        if not 0 <= r < self.widths[layer]:
            raise ValueError(f"{name}={r} is out of range: layer {layer} has neurons 0..{self.widths[layer] - 1}")
        return r

    def weight_index(self, layer: int, i: int, j: int) -> int:
        """Flat position of w^layer_{i,j} (code indices from 0)."""
        layer = self.check_layer(layer)
        i, j = self._check_index(i, "i"), self._check_index(j, "j")
        n_out, n_in = self.widths[layer], self.widths[layer - 1]
        if not (0 <= i < n_out and 0 <= j < n_in):
            raise ValueError(f"weight index ({i}, {j}) out of range for layer {layer} of shape {(n_out, n_in)}")
        return self._slices[("W", layer)].start + i * n_in + j

    def bias_index(self, layer: int, i: int) -> int:
        """Flat position of the bias w^layer_{0} of neuron i."""
        s = self.bias_slice(layer)
        i = self._check_index(i, "i")
        if not 0 <= i < self.widths[layer]:
            raise ValueError(f"neuron index {i} out of range for layer {layer} of width {self.widths[layer]}")
        return s.start + i

    def incoming_indices(self, layer: int, r: int) -> np.ndarray:
        """Flat positions of the incoming weights [u_{r,i}]_i of neuron r in ``layer``.

        Ordered as the inputs act(l-1, i), i = 0..n_{l-1}-1, followed by the
        bias (the constant input 1) when biases are on; this is the order of
        the rows and columns of :func:`lossland.embedding.B_matrix`.
        """
        layer = self.check_layer(layer)
        r = self.check_neuron(layer, r)
        n_in = self.widths[layer - 1]
        idx = [self.weight_index(layer, r, j) for j in range(n_in)]
        if self.biases:
            idx.append(self.bias_index(layer, r))
        return np.array(idx, dtype=int)

    def outgoing_indices(self, layer: int, r: int) -> np.ndarray:
        """Flat positions of the outgoing weights [v_{s,r}]_s of neuron r in hidden ``layer``."""
        layer = self.check_layer(layer, hidden=True)
        r = self.check_neuron(layer, r)
        return np.array([self.weight_index(layer + 1, s, r) for s in range(self.widths[layer + 1])],
                        dtype=int)

    # ------------------------------------------------------------ conversion
    def check_params(self, theta, name: str = "theta") -> np.ndarray:
        """Validate a flat parameter vector and return it as a float array."""
        arr = as_float_array(theta, name, ndim=1)
        if arr.shape[0] != self.n_params:
            raise ValueError(f"{name} must have length {self.n_params} for {self}, got {arr.shape[0]}")
        return arr

    def check_inputs(self, X, name: str = "X") -> np.ndarray:
        """Validate inputs of shape ``(N, n_0)`` (a 1-d array is one feature per sample when n_0 = 1)."""
        arr = as_float_array(X, name)
        if arr.ndim == 1 and self.widths[0] == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[1] != self.widths[0]:
            raise ValueError(f"{name} must have shape (N, {self.widths[0]}), got {arr.shape}")
        if arr.shape[0] < 1:
            raise ValueError(f"{name} must contain at least one sample")
        return arr

    def check_targets(self, y, n_samples: int, name: str = "y") -> np.ndarray:
        """Validate targets: shape ``(N,)`` (or ``(N, 1)``) for one output, ``(N, m)`` for m outputs."""
        arr = as_float_array(y, name)
        m = self.widths[-1]
        if m > 1:
            if arr.shape != (n_samples, m):
                raise ValueError(f"{name} must have shape ({n_samples}, {m}) to match X and the "
                                 f"{m} outputs, got {arr.shape}")
            return arr
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.shape != (n_samples,):
            raise ValueError(f"{name} must have shape ({n_samples},) to match X, got {arr.shape}")
        return arr

    def unflatten(self, theta) -> tuple[dict, dict]:
        """Split a flat vector into ``(W, b)``, dicts keyed by layer 1..L.

        The arrays are views into ``theta`` (no copy). Without biases ``b``
        holds zero vectors.
        """
        theta = self.check_params(theta)
        W, b = {}, {}
        for l in range(1, self.depth + 1):
            W[l] = theta[self._slices[("W", l)]].reshape(self.widths[l], self.widths[l - 1])
            b[l] = theta[self._slices[("b", l)]] if self.biases else np.zeros(self.widths[l])
        return W, b

    def flatten(self, W, b=None) -> np.ndarray:
        """Inverse of :meth:`unflatten`: ``W`` (and ``b``) indexed by layer 1..L.

        ``W`` may be a dict or a sequence ``[W1, ..., WL]``.
        """
        W = self._as_layer_dict(W, "W")
        if self.biases:
            if b is None:
                raise ValueError("b is required: this network has biases")
            b = self._as_layer_dict(b, "b")
        theta = np.empty(self.n_params)
        for l in range(1, self.depth + 1):
            shape = (self.widths[l], self.widths[l - 1])
            Wl = as_float_array(W[l], f"W[{l}]")
            if Wl.shape != shape:
                raise ValueError(f"W[{l}] must have shape {shape}, got {Wl.shape}")
            theta[self._slices[("W", l)]] = Wl.ravel()
            if self.biases:
                bl = as_float_array(b[l], f"b[{l}]").reshape(-1)
                if bl.shape != (self.widths[l],):
                    raise ValueError(f"b[{l}] must have shape ({self.widths[l]},), got {bl.shape}")
                theta[self._slices[("b", l)]] = bl
        return theta

    def _as_layer_dict(self, value, name):
        if isinstance(value, dict):
            missing = [l for l in range(1, self.depth + 1) if l not in value]
            if missing:
                raise ValueError(f"{name} is missing layers {missing}")
            return value
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            raise TypeError(f"{name} must be a dict or a sequence of {self.depth} arrays (layers 1..L), "
                            f"got {type(value).__name__}")
        value = list(value)
        if len(value) != self.depth:
            raise ValueError(f"{name} must have {self.depth} layers, got {len(value)}")
        return {l: value[l - 1] for l in range(1, self.depth + 1)}

    def init_params(self, rng, scale: float = 1.0) -> np.ndarray:
        """Random parameters, i.i.d. normal with standard deviation ``scale``.

        ``rng`` is a :class:`numpy.random.Generator` or a non-negative integer seed.
        """
        scale = check_real(scale, "scale", low=0.0)
        rng = check_rng(rng)
        return scale * rng.standard_normal(self.n_params)

    # -------------------------------------------------------------- forward
    def forward(self, theta, X) -> Forward:
        """Pre-activations n(l; x) and activations act(l; x) of every layer.

        Vectorised over the samples (rows of ``X``).
        """
        X = self.check_inputs(X)
        W, b = self.unflatten(theta)
        sigma = self.activation.f
        pre, act = [None], [X]
        a = X
        with np.errstate(over="ignore", invalid="ignore"):
            for l in range(1, self.depth + 1):
                z = a @ W[l].T + b[l]
                pre.append(z)
                a = sigma(z) if l < self.depth else z
                act.append(a)
            if self.output_activation is not None:
                a = act[-1] = self.output_activation.f(a)
        if not np.all(np.isfinite(a)):
            raise ValueError(f"theta: the forward pass of {self} overflowed (non-finite output); "
                             "the parameters are too large for this activation")
        return Forward(pre, act, a[:, 0] if a.shape[1] == 1 else a)

    def __call__(self, theta, X) -> np.ndarray:
        """The network function f(x) for all samples, shape ``(N,)`` (``(N, m)`` for m > 1 outputs)."""
        return self.forward(theta, X).output

    def with_widths(self, widths) -> "Network":
        """A network of the same kind (activations, biases) with other widths."""
        return Network(widths, self.activation, self.biases, self.output_activation)

    def __eq__(self, other):
        return (isinstance(other, Network) and self.widths == other.widths
                and self.activation == other.activation and self.biases == other.biases
                and self.output_activation == other.output_activation)

    def __hash__(self):
        out = None if self.output_activation is None else self.output_activation.name
        return hash((self.widths, self.activation.name, self.biases, out))

    def __repr__(self):
        arch = "-".join(map(str, self.widths))
        out = "" if self.output_activation is None else f", output {self.output_activation.name}"
        return f"Network({arch}, {self.activation.name}{out}, biases={self.biases})"
