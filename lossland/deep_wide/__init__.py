"""Part II: the loss surface of deep and wide networks (Nguyen and Hein, ICML 2017; paper 003).

The home of Part II's own constructions, one module per result, named after it
(for example ``identities`` for Lemma 2.1, ``assumptions`` for Assumptions 3.2 and
Lemma 3.3, ``wide_layer`` for Theorem 3.8 and Corollary 3.9, ``full_rank`` for
Lemmas 4.1-4.4, ``separable`` for Section 5). What other parts also need (a new
loss, a new activation, a rank test) goes to the core instead. Nothing here
imports another part's subpackage. No module has been written yet.
"""
