"""lossland: the helper package of the executable textbook on neural-network loss surfaces.

The core (activations, networks, exact derivatives) is re-exported here; the
modules that own one idea each (embedding, optimize, constructions, paths,
independence, ...) are imported by name, e.g. ``from lossland.embedding import B_matrix``.
"""
from .activations import ACTIVATIONS, SMOOTH_ACTIVATIONS, Activation, get_activation
from .derivatives import SquaredLoss
from .network import Forward, Network

__all__ = ["ACTIVATIONS", "SMOOTH_ACTIVATIONS", "Activation", "get_activation", "Network", "Forward",
           "SquaredLoss"]
__version__ = "0.1.0"
