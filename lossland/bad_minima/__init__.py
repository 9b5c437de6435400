"""Part IV: bad local minima of narrow networks with general smooth activations (paper 004).

One module per result of 004 (see each module's docstring for the equations).
The core (activations, networks, exact derivatives, the neuron embedding) comes
from :mod:`lossland`; nothing here imports another part.
"""
