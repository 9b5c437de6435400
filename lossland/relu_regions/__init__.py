"""Part III: the loss surface of ReLU networks by activation regions (paper 002).

The home of Part III's own constructions, one module per result, named after it
(for example ``regions`` for Definition 2.1 and the enumeration of activation
patterns, ``convexity`` for Lemmas 2.3-2.4 and Theorem 2.5, ``subglobal`` for
Definition 2.6 / Corollary 2.7 and Section 4). Long enumerations run through the
core runner (:mod:`lossland.runner`). Nothing here imports another part's
subpackage. No module has been written yet.
"""
