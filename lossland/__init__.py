"""lossland: the helper package of the executable textbook on neural-network loss surfaces."""
from .activations import ACTIVATIONS, SMOOTH_ACTIVATIONS, Activation, get_activation
from .network import Forward, Network
from .derivatives import SquaredLoss, gradient, hessian, hvp, loss

__version__ = "0.1.0"
