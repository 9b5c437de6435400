"""Part I: non-attracting regions of local minima in deep and wide networks (papers 000 and 001).

Petzka and Sminchisescu, arXiv (000, whose numbering the book uses first) and
JMLR (001). One module per result, in the order of the chapters:

* :mod:`~lossland.nonattracting.toy`, :mod:`~lossland.nonattracting.toy_figures`: Definition 1
  and Fig. 1 (attracting and non-attracting regions; P1);
* :mod:`~lossland.nonattracting.infinity`: Theorem 1 / 4 and Lemma 7 / A.2 (local minima at infinity; P2);
* :mod:`~lossland.nonattracting.nitta`: Theorem 4 / 7 (Nitta: the gradient of an embedded network; P3);
* :mod:`~lossland.nonattracting.constructions`: Theorem 5 / 8 (the Fukumizu-Amari base case) and the
  wide embeddings of Theorem 7 / 13 (P4, P9);
* :mod:`~lossland.nonattracting.lemma1_symbolic`, :mod:`~lossland.nonattracting.lemma1_numeric`:
  Lemma 1 / 12 (the Hessian in the embedding basis; P5);
* :mod:`~lossland.nonattracting.lemma8`: Lemma 8 / A.1 (the PSD criteria; P6);
* :mod:`~lossland.nonattracting.deep_example`, :mod:`~lossland.nonattracting.embedded_points`:
  Theorem 6 / 9 and Theorem 2 (deep networks: B, D and the Hessian at embedded points; P7, P10);
* :mod:`~lossland.nonattracting.conditions`: Proposition 1 / 15 (when D = 0; P8);
* :mod:`~lossland.nonattracting.reference`: the conventions and the finite-difference protocol of the
  authors' public code (000 Sections V-D, V-E; P10, P11);
* :mod:`~lossland.nonattracting.experiments`: Section V-E and Fig. 4 (how often B is definite; P11);
* :mod:`~lossland.nonattracting.paths`: Theorem 3 / 5 and Lemmas 2-6 / 16-20 (a non-increasing path to
  a global minimum; P12);
* :mod:`~lossland.nonattracting.escapes`: Corollary 1 / 3 (whether training leaves a region; P13).

The neuron embedding, the matrices B and D of eq. (1)-(2), the Lemma 1 basis and
the Hessian-kernel checks at embedded points are used by Part IV too and live in
the core (:mod:`lossland.embedding`).
"""
