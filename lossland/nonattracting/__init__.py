"""Part I: non-attracting regions of local minima in deep and wide networks (papers 000 and 001).

Petzka and Sminchisescu, arXiv (000) and JMLR (001). One module per result:

* :mod:`~lossland.nonattracting.toy`: Definition 1 and Fig. 1 (attracting and non-attracting regions);
* :mod:`~lossland.nonattracting.infinity`: Theorem 1 of 000 (local minima at infinity);
* :mod:`~lossland.nonattracting.constructions`: Section V-B (the Fukumizu-Amari base case, Theorems 5 and 7);
* :mod:`~lossland.nonattracting.conditions`: Proposition 1 (sufficient conditions for D = 0);
* :mod:`~lossland.nonattracting.paths`: Theorem 3 (a non-increasing path to a global minimum of a wide net);
* :mod:`~lossland.nonattracting.reference`: the conventions and the finite-difference protocol of
  the authors' public code (000 Section V-D, V-E);
* :mod:`~lossland.nonattracting.experiments`: Section V-E and Fig. 4 (how often B is definite).

The neuron embedding and the matrices B and D of Theorem 6 / Lemma 1 are used by
other parts too and live in the core (:mod:`lossland.embedding`).
"""
