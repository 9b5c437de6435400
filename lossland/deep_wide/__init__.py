"""Part II: the loss surface of deep and wide networks (Nguyen and Hein, ICML 2017; paper 003).

Part II's own constructions, one module per result, named after its idea. The
network, the general loss of 003's eq. (1) with its exact derivatives and the
loss registry are in the core (:mod:`lossland.objective`, :mod:`lossland.losses`).

- :mod:`~lossland.deep_wide.backprop`: Lemma 2.1, symbolically and numerically (N1);
- :mod:`~lossland.deep_wide.gori_tesi`: Theorem 3.1 of Gori and Tesi (N2);
- :mod:`~lossland.deep_wide.assumptions`: the activation part of Assumptions 3.2, Lemma 3.3 (N3);
- :mod:`~lossland.deep_wide.rank_conditions`: the rank hypotheses of Theorem 3.4 and Lemma 3.5,
  with margins (N4, N6, ...);
- :mod:`~lossland.deep_wide.nondegenerate`: block Hessians, Definitions 3.6 and 3.7 (N5);
- :mod:`~lossland.deep_wide.wide_layer`: Theorem 3.8 and Corollary 3.9, the flat directions of a
  wide layer and when the hypotheses can hold (N6);
- :mod:`~lossland.deep_wide.morse`: Theorem 3.10, linear perturbations (N7);
- :mod:`~lossland.deep_wide.full_rank`: Lemmas 4.1-4.4, the alpha -> infinity construction (N8);
- :mod:`~lossland.deep_wide.implicit_path`: Theorem 4.6 and the proof of Theorem 3.8 (N9);
- :mod:`~lossland.deep_wide.separable`: Definition 5.1 and Theorem 5.3 (N10).

Nothing here imports another part's subpackage.
"""
