"""lossland: the helper package of the executable textbook on neural-network loss surfaces.

A flat core of objects every part uses (activations, networks, the squared loss
with exact derivatives, critical points, the neuron embedding with B and D,
landscape scans, symbolic networks, training, data, the runner for long
experiments, plotting) and one subpackage per part of the book for that paper's
own constructions: :mod:`lossland.nonattracting` (Part I, papers 000/001),
:mod:`lossland.deep_wide` (Part II, 003), :mod:`lossland.relu_regions` (Part III,
002), :mod:`lossland.bad_minima` (Part IV, 004). The most used core objects are
re-exported here; everything else is imported from its module, e.g.
``from lossland.embedding import B_matrix``.
"""
from .activations import ACTIVATIONS, SMOOTH_ACTIVATIONS, Activation, get_activation
from .derivatives import SquaredLoss
from .network import Forward, Network

__all__ = ["ACTIVATIONS", "SMOOTH_ACTIVATIONS", "Activation", "get_activation", "Network", "Forward",
           "SquaredLoss"]
__version__ = "0.1.0"
