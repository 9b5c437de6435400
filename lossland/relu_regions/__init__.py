"""Part III: the loss surface of ReLU networks by activation regions (paper 002).

Part III's own constructions, one module per idea of 002. The network of eq. (1)
is a core :class:`lossland.Network` with ReLU and the core
:class:`lossland.SquaredLoss` with the ½ of eq. (3) (:func:`model.relu_objective`).

- :mod:`~lossland.relu_regions.model`: eqs. (1)-(4) and Definition 2.1: paper
  parameters, activation patterns, g_A with exact derivatives, the (p, q, c)
  variables and the design matrix (R1-R10);
- :mod:`~lossland.relu_regions.regions`: Definition 2.1 and Fig. 1: region
  nonemptiness by linear programs with a margin, enumeration of the patterns,
  the classical region counts (R1, R9);
- :mod:`~lossland.relu_regions.convexity`: Lemmas 2.3-2.4 and Theorem 2.5,
  symbolically: eqs. (9)-(12) and the saddle directions (R2-R4);
- :mod:`~lossland.relu_regions.subglobal`: Definition 2.6 and Section 4.1: the
  normal equations (6)-(7), exact subglobal minima, realized or not (R5, R9);
- :mod:`~lossland.relu_regions.kinks`: one-sided directional derivatives and the
  kind of a point on a region boundary (R6, R8);
- :mod:`~lossland.relu_regions.linear_region`: Section 3.1, eq. (5) (R7);
- :mod:`~lossland.relu_regions.dead_neuron`: Section 3.2, minima inherited from a
  smaller network (R8);
- :mod:`~lossland.relu_regions.digits`: Section 4.2 and Table 1, random versus
  rich subglobal minima on scikit-learn's digits (R10).

Long enumerations and experiments run through the core runner
(:mod:`lossland.runner`). Nothing here imports another part's subpackage.
"""
