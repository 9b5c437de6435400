"""Bad input raises ValueError / TypeError whose message names the argument.

The rule of the package: a value of the wrong kind (a string, bool, complex
number or object where a number, integer or array is expected) raises
``TypeError``; a value of the right kind but wrong (NaN, out of range, wrong
shape) raises ``ValueError``; either way the message names the argument.
Numpy scalars are accepted wherever Python numbers are.
"""
import warnings

import numpy as np
import pytest

from lossland import _validation as vd

from lossland import Network, SquaredLoss, get_activation
from lossland import datasets as ds
from lossland import derivatives as dv
from lossland import embedding as em
from lossland import landscape as ls
from lossland import optimize as opt
from lossland import training as tr
from lossland.nonattracting import constructions as cons

NET = Network((2, 3, 2, 1), "tanh")
NET_NB = Network((1, 2, 1), "tanh", biases=False)
THETA = NET.init_params(0, 0.5)
X = np.linspace(-1, 1, 8).reshape(4, 2)
Y = np.zeros(4)
OBJ = SquaredLoss(NET, X, Y)
P = NET.n_params
W, B = NET.unflatten(THETA)

# (description, callable, exception type, regex the message must match)
CASES = [
    # ------------------------------------------------------------ Network
    ("widths not a sequence", lambda: Network(5), TypeError, "widths"),
    ("widths a string", lambda: Network("231"), TypeError, "widths"),
    ("widths with a float", lambda: Network((2, 1.5, 1)), TypeError, "widths"),
    ("widths with a bool", lambda: Network((2, True, 1)), TypeError, "widths"),
    ("widths with zero", lambda: Network((2, 0, 1)), ValueError, "widths"),
    ("widths too short", lambda: Network((2,)), ValueError, "widths"),
    ("SquaredLoss with two outputs", lambda: SquaredLoss(Network((2, 3, 2)), X, Y), ValueError,
     "SquaredLoss needs one linear output"),
    ("unknown output activation", lambda: Network((1, 2, 1), output_activation="swoosh"), ValueError,
     "unknown activation 'swoosh'"),
    ("biases not bool", lambda: Network((1, 2, 1), biases=1), TypeError, "biases"),
    ("unknown activation", lambda: Network((1, 2, 1), "swoosh"), ValueError, "unknown activation 'swoosh'"),
    ("activation wrong type", lambda: Network((1, 2, 1), 3), TypeError, "activation"),
    ("parameter of another activation", lambda: Network((1, 2, 1), "softplus", beta=1.0), TypeError, "beta"),
    # --------------------------------------------------------- activations
    ("alpha zero", lambda: get_activation("softplus", alpha=0), ValueError, "alpha"),
    ("alpha negative", lambda: get_activation("softplus", alpha=-2.0), ValueError, "alpha"),
    ("alpha nan", lambda: get_activation("softplus", alpha=float("nan")), ValueError, "alpha"),
    ("alpha inf", lambda: get_activation("softplus", alpha=np.inf), ValueError, "alpha"),
    ("alpha string", lambda: get_activation("softplus", alpha="2"), TypeError, "alpha"),
    ("alpha bool", lambda: get_activation("softplus", alpha=True), TypeError, "alpha"),
    ("beta zero", lambda: get_activation("swish", beta=0.0), ValueError, "beta"),
    ("beta for silu", lambda: get_activation("silu", beta=2.0), TypeError, "beta"),
    ("alpha for tanh", lambda: get_activation("tanh", alpha=1.0), TypeError, "alpha"),
    ("params with an Activation", lambda: get_activation(get_activation("tanh"), alpha=1.0), TypeError,
     "parameters"),
    # -------------------------------------------------------- theta, X, y
    ("theta too short", lambda: NET(THETA[:-1], X), ValueError, f"theta must have length {P}"),
    ("theta too long", lambda: NET(np.append(THETA, 0.0), X), ValueError, "theta"),
    ("theta 2-d", lambda: NET(THETA[None, :], X), ValueError, "theta must be a 1-d"),
    ("theta with NaN", lambda: NET(np.where(np.arange(P) == 3, np.nan, THETA), X), ValueError,
     "theta contains non-finite"),
    ("theta with inf", lambda: OBJ.gradient(np.where(np.arange(P) == 0, np.inf, THETA)), ValueError,
     "theta contains non-finite"),
    ("theta of strings", lambda: NET(["a"] * P, X), TypeError, "theta"),
    ("X wrong width", lambda: NET(THETA, np.ones((4, 3))), ValueError, r"X must have shape \(N, 2\)"),
    ("X 3-d", lambda: NET(THETA, np.ones((2, 2, 2))), ValueError, "X must have shape"),
    ("X 1-d with n_0 = 2", lambda: NET(THETA, np.ones(2)), ValueError, "X must have shape"),
    ("X empty", lambda: NET(THETA, np.ones((0, 2))), ValueError, "X must contain at least one sample"),
    ("X with NaN", lambda: NET(THETA, np.full((4, 2), np.nan)), ValueError, "X contains non-finite"),
    ("X with inf", lambda: SquaredLoss(NET, np.full((4, 2), np.inf), Y), ValueError, "X contains non-finite"),
    ("y wrong length", lambda: SquaredLoss(NET, X, np.zeros(3)), ValueError, r"y must have shape \(4,\)"),
    ("y two columns", lambda: SquaredLoss(NET, X, np.zeros((4, 2))), ValueError, "y must have shape"),
    ("y with NaN", lambda: SquaredLoss(NET, X, np.full(4, np.nan)), ValueError, "y contains non-finite"),
    ("normalization", lambda: SquaredLoss(NET, X, Y, "mean"), ValueError, "normalization"),
    ("net not a Network", lambda: SquaredLoss("net", X, Y), TypeError, "net must be a lossland.Network"),
    ("gradient theta", lambda: SquaredLoss(NET, X, Y).gradient(THETA[:3]), ValueError, "theta"),
    ("output_deltas X", lambda: SquaredLoss(NET, np.ones((4, 3)), Y).output_deltas(THETA), ValueError, "X"),
    ("hvp v wrong length", lambda: OBJ.hvp(THETA, np.ones(3)), ValueError, "v must have shape"),
    ("hvp v 3-d", lambda: OBJ.hvp(THETA, np.ones((1, 1, P))), ValueError, "v must have shape"),
    ("hvp v NaN", lambda: OBJ.hvp(THETA, np.full(P, np.nan)), ValueError, "v contains non-finite"),
    # ------------------------------------------------ flatten and indices
    ("flatten W shape", lambda: NET.flatten({1: W[1].T, 2: W[2], 3: W[3]}, B), ValueError, r"W\[1\] must have shape"),
    ("flatten b missing", lambda: NET.flatten(W), ValueError, "b is required"),
    ("flatten b shape", lambda: NET.flatten(W, {1: B[1][:2], 2: B[2], 3: B[3]}), ValueError, r"b\[1\]"),
    ("flatten layers missing", lambda: NET.flatten({1: W[1]}, B), ValueError, "W is missing layers"),
    ("flatten wrong count", lambda: NET.flatten([W[1], W[2]], [B[1], B[2]]), ValueError, "W must have 3 layers"),
    ("flatten NaN", lambda: NET.flatten({1: np.full((3, 2), np.nan), 2: W[2], 3: W[3]}, B), ValueError,
     r"W\[1\] contains non-finite"),
    ("layer 0", lambda: NET.weight_slice(0), ValueError, "layer=0 is out of range"),
    ("layer L+1", lambda: NET.weight_slice(4), ValueError, "layer=4 is out of range"),
    ("layer float", lambda: NET.weight_slice(1.0), TypeError, "layer must be an integer"),
    ("layer bool", lambda: NET.weight_slice(True), TypeError, "layer must be an integer"),
    ("outgoing of the output layer", lambda: NET.outgoing_indices(3, 0), ValueError, "layer=3 is out of range"),
    ("bias_slice without biases", lambda: NET_NB.bias_slice(1), ValueError, "no biases"),
    ("weight index out of range", lambda: NET.weight_index(1, 3, 0), ValueError, r"weight index \(3, 0\)"),
    ("weight index negative", lambda: NET.weight_index(1, 0, -1), ValueError, "weight index"),
    ("bias index out of range", lambda: NET.bias_index(2, 2), ValueError, "neuron index 2"),
    # ------------------------------------------------------------ overflow
    ("forward overflow", lambda: Network((1, 1, 1), "exp")(np.array([800.0, 0, 1, 0]), np.ones(1)), ValueError,
     "overflow"),
    ("gradient overflow", lambda: SquaredLoss(Network((1, 1, 1), "exp"), np.ones(1), np.zeros(1)).gradient(
        np.array([800.0, 0, 1, 0])), ValueError, "overflow"),
    ("hessian overflow", lambda: SquaredLoss(Network((1, 1, 1), "exp"), np.ones(1), np.zeros(1)).hessian(
        np.array([0.0, 800.0, 1, 0])), ValueError, "overflow"),
    ("hvp overflow", lambda: SquaredLoss(Network((1, 1, 1), "exp"), np.ones(1), np.zeros(1)).hvp(
        np.array([800.0, 0, 1, 0]), np.ones(4)), ValueError, "overflow"),
    ("deep overflow", lambda: Network((1, 2, 2, 1), "exp")(np.full(13, 30.0), np.ones(1)), ValueError, "overflow"),
    # ----------------------------------------------------------- embedding
    ("embed layer 0", lambda: em.embed_neuron(NET, THETA, 0, 0, 0.5), ValueError, "layer=0 is out of range"),
    ("embed output layer", lambda: em.embed_neuron(NET, THETA, 3, 0, 0.5), ValueError, "layer=3 is out of range"),
    ("embed layer L+1", lambda: em.embed_neuron(NET, THETA, 4, 0, 0.5), ValueError, "layer=4 is out of range"),
    ("embed layer float", lambda: em.embed_neuron(NET, THETA, 1.0, 0, 0.5), TypeError, "layer"),
    ("embed r too large", lambda: em.embed_neuron(NET, THETA, 1, 3, 0.5), ValueError, "r=3 is out of range"),
    ("embed r negative", lambda: em.embed_neuron(NET, THETA, 2, -1, 0.5), ValueError, "r=-1 is out of range"),
    ("embed r float", lambda: em.embed_neuron(NET, THETA, 1, 1.0, 0.5), TypeError, "r must be an integer"),
    ("lambda NaN", lambda: em.embed_neuron(NET, THETA, 1, 0, float("nan")), ValueError, "lam must be finite"),
    ("lambda inf", lambda: em.embed_neuron(NET, THETA, 1, 0, -np.inf), ValueError, "lam must be finite"),
    ("lambda string", lambda: em.embed_neuron(NET, THETA, 1, 0, "0.5"), TypeError, "lam must be a real number"),
    ("lambda None", lambda: em.embed_neuron(NET, THETA, 1, 0, None), TypeError, "lam must be a real number"),
    ("lambda bool", lambda: em.embed_neuron(NET, THETA, 1, 0, True), TypeError, "lam must be a real number"),
    ("lambda complex", lambda: em.embed_neuron(NET, THETA, 1, 0, 0.5j), TypeError, "lam must be a real number"),
    ("embed net", lambda: em.embed_neuron("net", THETA, 1, 0, 0.5), TypeError, "net must be a lossland.Network"),
    ("embed theta", lambda: em.embed_neuron(NET, THETA[:-1], 1, 0, 0.5), ValueError, "theta"),
    ("no lambdas", lambda: em.embed_repeatedly(NET, THETA, 1, 0, []), ValueError, "lambdas"),
    ("lambdas with NaN", lambda: em.embed_repeatedly(NET, THETA, 1, 0, [0.5, np.nan]), ValueError, "lam"),
    ("alpha + beta = 0", lambda: em.lemma1_basis(NET, 1, 0, 1.0, -1.0), ValueError, r"alpha \+ beta"),
    ("alpha NaN", lambda: em.lemma1_basis(NET, 1, 0, np.nan, 1.0), ValueError, "alpha must be finite"),
    ("beta string", lambda: em.lemma1_basis(NET, 1, 0, 1.0, "1"), TypeError, "beta"),
    ("lemma1 alpha+beta = 0", lambda: em.lemma1_hessian(SquaredLoss(NET, X, Y), THETA, 1, 0, 0.3, 2.0, -2.0), ValueError,
     "alpha=2.0, beta=-2.0"),
    ("lemma1 inconsistent lambda", lambda: em.lemma1_hessian(SquaredLoss(NET, X, Y), THETA, 1, 0, 0.3, 1.0, 1.0), ValueError,
     "lambda"),
    ("lemma1 only alpha", lambda: em.lemma1_hessian(SquaredLoss(NET, X, Y), THETA, 1, 0, 0.3, alpha=0.7), ValueError,
     "both alpha and beta"),
    ("lemma1 objective", lambda: em.lemma1_hessian(NET, THETA, 1, 0, 0.3), TypeError,
     "objective must be a lossland.SquaredLoss"),
    ("lemma1 lambda", lambda: em.lemma1_hessian(SquaredLoss(NET, X, Y), THETA, 1, 0, np.nan), ValueError, "lam"),
    ("B layer", lambda: em.B_matrix(SquaredLoss(NET, X, Y), THETA, 3, 0), ValueError, "layer=3"),
    ("B r", lambda: em.B_matrix(SquaredLoss(NET, X, Y), THETA, 2, 2), ValueError, "r=2"),
    ("B X", lambda: em.B_matrix(SquaredLoss(NET, np.ones((4, 3)), Y), THETA, 1, 0), ValueError, "X must have shape"),
    ("D y", lambda: em.D_matrix(SquaredLoss(NET, X, np.ones(3)), THETA, 1, 0), ValueError, "y must have shape"),
    ("D theta", lambda: em.D_matrix(SquaredLoss(NET, X, Y), THETA[1:], 1, 0), ValueError, "theta"),
    ("D layer 0", lambda: em.D_matrix(SquaredLoss(NET, X, Y), THETA, 0, 0), ValueError, "layer=0"),
    ("descent lambda", lambda: em.descent_direction(SquaredLoss(NET, X, Y), THETA, 1, 0, np.inf), ValueError, "lam"),
    ("descent objective", lambda: em.descent_direction(NET, THETA, 1, 0, 0.3),
     TypeError, "objective must be a lossland.SquaredLoss"),
    ("degenerate layer", lambda: em.degenerate_direction(NET, THETA, 3, 0), ValueError, "layer=3"),
    ("degenerate r", lambda: em.degenerate_direction(NET, THETA, 1, 5), ValueError, "r=5"),
    ("small_to_big layer", lambda: em.small_to_big_indices(NET, 0), ValueError, "layer=0"),
    ("alpha_beta", lambda: em.alpha_beta("x"), TypeError, "lam"),
    # ------------------------------------------------------------ optimize
    ("objective type", lambda: opt.find_critical_point("obj", THETA), TypeError, "objective"),
    ("method", lambda: opt.find_critical_point(OBJ, THETA, method="sgd"), ValueError, "method"),
    ("gtol zero", lambda: opt.find_critical_point(OBJ, THETA, gtol=0.0), ValueError, "gtol"),
    ("gtol NaN", lambda: opt.find_critical_point(OBJ, THETA, gtol=float("nan")), ValueError, "gtol"),
    ("gtol string", lambda: opt.find_critical_point(OBJ, THETA, gtol="1e-9"), TypeError, "gtol"),
    ("theta0", lambda: opt.find_critical_point(OBJ, THETA[:-1]), ValueError, "theta0"),
    ("polish objective", lambda: opt.newton_polish("obj", THETA), TypeError, "objective"),
    ("polish theta", lambda: opt.newton_polish(OBJ, THETA[:-1]), ValueError, "theta"),
    ("report objective", lambda: opt.hessian_report(None, THETA), TypeError, "objective"),
    # ------------------------------------------------------------ datasets
    ("teacher type", lambda: ds.teacher_student("net", 5, 0), TypeError, "teacher"),
    ("n_samples zero", lambda: ds.teacher_student(NET, 0, 0), ValueError, "n_samples"),
    ("n_samples float", lambda: ds.teacher_student(NET, 2.5, 0), ValueError, "n_samples"),
    ("n_samples bool", lambda: ds.teacher_student(NET, True, 0), ValueError, "n_samples"),
    ("low >= high", lambda: ds.teacher_student(NET, 5, 0, low=1.0, high=1.0), ValueError, "low"),
    ("low NaN", lambda: ds.teacher_student(NET, 5, 0, low=np.nan), ValueError, "low"),
    ("teacher theta", lambda: ds.teacher_student(NET, 5, 0, theta=THETA[:-2]), ValueError, "theta"),
    # ----------------------------------------------------------- landscape
    ("loss_along objective", lambda: ls.loss_along("obj", THETA, THETA, [0.0]), TypeError, "objective"),
    ("loss_along direction", lambda: ls.loss_along(OBJ, THETA, THETA[:-1], [0.0]), ValueError, "direction"),
    ("loss_along direction NaN", lambda: ls.loss_along(OBJ, THETA, np.full(P, np.nan), [0.0]), ValueError,
     "direction"),
    ("loss_along ts NaN", lambda: ls.loss_along(OBJ, THETA, THETA, [0.0, np.nan]), ValueError, "ts"),
    ("loss_along ts 2-d", lambda: ls.loss_along(OBJ, THETA, THETA, [[0.0]]), ValueError, "ts"),
    ("random_directions n_params", lambda: ls.random_directions(0, 3, 0), ValueError, "n_params"),
    ("random_directions n_directions", lambda: ls.random_directions(3, 0, 0), ValueError, "n_directions"),
    ("loss_along_many objective", lambda: ls.loss_along_many(1, THETA, THETA[None], [0.0]), TypeError,
     "objective"),
    ("loss_along_many directions", lambda: ls.loss_along_many(OBJ, THETA, THETA, [0.0]), ValueError, "directions"),
    ("loss_along_many theta", lambda: ls.loss_along_many(OBJ, THETA[1:], THETA[None], [0.0]), ValueError, "theta"),
]


@pytest.mark.parametrize("call,exc,match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_rejected_with_a_named_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_case_descriptions_are_unique():
    names = [c[0] for c in CASES]
    assert len(names) == len(set(names))


def test_no_nan_leaks_from_a_valid_but_large_network():
    """Saturated bounded activations give finite values, no error: the overflow check is not over-eager."""
    net = Network((1, 2, 1), "sigmoid")
    theta = np.array([1e3, -1e3, 0.0, 0.0, 1.0, 1.0, 0.0])
    obj = SquaredLoss(net, np.array([[1.0], [-1.0]]), np.zeros(2))
    assert np.isfinite(obj.value(theta)) and np.all(np.isfinite(obj.gradient(theta)))
    assert np.all(np.isfinite(obj.hessian(theta)))


@pytest.mark.parametrize("ts,dirs,name", [([0.0, np.nan], THETA[None], "ts"), ([[0.0, 1.0]], THETA[None], "ts"),
                                          ([1.0], np.full((1, P), np.nan), "directions")],
                         ids=["ts NaN", "ts 2-d", "directions NaN"])
def test_loss_along_many_validates_ts_and_directions(ts, dirs, name):
    with pytest.raises(ValueError, match=name):
        ls.loss_along_many(OBJ, THETA, dirs, ts)


# ----------------------------------------------------------------------------
# Bugs found while writing these tests (fixed; kept as regression tests)
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("call", [lambda: NET.weight_index(1, 0.5, 0), lambda: NET.weight_index(1, 0, 1.0),
                                  lambda: NET.bias_index(1, 0.5)], ids=["i float", "j float", "bias float"])
def test_index_helpers_reject_non_integer_indices(call):
    with pytest.raises(TypeError, match="integer"):
        call()


@pytest.mark.parametrize("method", ["incoming_indices", "outgoing_indices"])
def test_neuron_helpers_name_r(method):
    with pytest.raises(ValueError, match=r"\br=7\b"):
        getattr(NET, method)(1, 7)


@pytest.mark.parametrize("method", ["value", "gradient", "hessian"])
def test_loss_derivative_overflow_raises(method):
    obj = SquaredLoss(Network((1, 1, 1), "exp"), np.ones(1), np.zeros(1))
    theta = np.array([709.0, 0.0, 1.0, 0.0])          # f = e^709 < max float, f^2 overflows
    assert np.isfinite(obj.net(theta, np.ones(1))).all()
    with pytest.raises(ValueError, match="overflow|non-finite"):
        with np.errstate(over="ignore"):
            getattr(obj, method)(theta)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: em.embed_repeatedly(NET, THETA, 1, 0, 0.5), TypeError, "lambdas"),
    (lambda: opt.newton_polish(OBJ, THETA, gtol=-1.0), ValueError, "gtol"),
    (lambda: opt.newton_polish(OBJ, THETA, gtol=float("nan")), ValueError, "gtol"),
    (lambda: NET.init_params(0, float("nan")), ValueError, "scale"),
    (lambda: ls.random_directions(2.5, 3, 0), TypeError, "n_params"),
], ids=["lambdas scalar", "polish gtol negative", "polish gtol NaN", "init scale NaN", "n_params float"])
def test_scalar_arguments_are_validated(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ----------------------------------------------------------------------------
# Holes closed with the shared checks of lossland._validation: each used to be
# accepted silently, truncated, or rejected with a message that did not name
# the argument (numpy's or Python's own).
# ----------------------------------------------------------------------------
HOLES = [
    # complex numbers were truncated to their real part with only a ComplexWarning
    ("forward theta complex", lambda: NET(THETA + 0j, X), TypeError, "theta"),
    ("forward theta complex list", lambda: NET(list(THETA[:-1]) + [1j], X), TypeError, "theta"),
    ("forward X complex", lambda: NET(THETA, X + 1e-3j), TypeError, "X"),
    ("loss y complex", lambda: SquaredLoss(NET, X, Y + 1j), TypeError, "y"),
    ("gradient theta complex", lambda: OBJ.gradient(THETA.astype(complex)), TypeError, "theta"),
    # strings of digits and bools were converted to numbers
    ("forward theta numeric strings", lambda: NET([str(t) for t in THETA], X), TypeError, "theta"),
    ("forward theta bools", lambda: NET(np.ones(P, dtype=bool), X), TypeError, "theta"),
    ("forward theta None", lambda: NET(None, X), TypeError, "theta"),
    ("forward theta object None", lambda: NET(np.array([None] * P), X), TypeError, "theta"),
    # Network
    ("init_params rng string", lambda: NET.init_params("seed"), TypeError, "rng"),
    ("init_params rng negative", lambda: NET.init_params(-1), ValueError, "rng"),
    ("init_params rng None", lambda: NET.init_params(None), TypeError, "rng"),
    ("init_params scale string", lambda: NET.init_params(0, "1"), TypeError, "scale"),
    ("flatten W not iterable", lambda: NET.flatten(5, B), TypeError, "W"),
    # finite differences: h = 0 divided by zero (fd_gradient) or returned NaNs (fd_hessian)
    ("fd_gradient h zero", lambda: dv.fd_gradient(OBJ.value, THETA, h=0), ValueError, "h must be positive"),
    ("fd_hessian h zero", lambda: dv.fd_hessian(OBJ.gradient, THETA, h=0), ValueError, "h must be positive"),
    ("fd_gradient h negative", lambda: dv.fd_gradient(OBJ.value, THETA, h=-1e-6), ValueError, "h must be positive"),
    ("fd_gradient h NaN", lambda: dv.fd_gradient(OBJ.value, THETA, h=np.nan), ValueError, "h must be finite"),
    ("fd_hessian h inf", lambda: dv.fd_hessian(OBJ.gradient, THETA, h=np.inf), ValueError, "h must be finite"),
    ("fd_gradient h string", lambda: dv.fd_gradient(OBJ.value, THETA, h="1e-6"), TypeError, "h must be a real"),
    ("fd_gradient fun", lambda: dv.fd_gradient("value", THETA), TypeError, "fun must be callable"),
    ("fd_hessian grad", lambda: dv.fd_hessian(None, THETA), TypeError, "grad must be callable"),
    ("fd_gradient theta NaN", lambda: dv.fd_gradient(OBJ.value, np.full(P, np.nan)), ValueError, "theta"),
    ("fd_gradient theta string", lambda: dv.fd_gradient(OBJ.value, "abc"), TypeError, "theta"),
    ("fd_hessian theta 2-d", lambda: dv.fd_hessian(OBJ.gradient, THETA[None]), ValueError, "theta must be a 1-d"),
    # find_critical_point
    ("maxiter negative", lambda: opt.find_critical_point(OBJ, THETA, maxiter=-5), ValueError, "maxiter"),
    ("maxiter float", lambda: opt.find_critical_point(OBJ, THETA, maxiter=2.5), TypeError, "maxiter"),
    ("maxiter string", lambda: opt.find_critical_point(OBJ, THETA, maxiter="10"), TypeError, "maxiter"),
    ("maxiter bool", lambda: opt.find_critical_point(OBJ, THETA, maxiter=True), TypeError, "maxiter"),
    ("polish string", lambda: opt.find_critical_point(OBJ, THETA, polish="no"), TypeError, "polish"),
    ("polish int", lambda: opt.find_critical_point(OBJ, THETA, polish=0), TypeError, "polish"),
    ("method list", lambda: opt.find_critical_point(OBJ, THETA, method=["BFGS"]), TypeError, "method"),
    # newton_polish
    ("max_steps negative", lambda: opt.newton_polish(OBJ, THETA, max_steps=-1), ValueError, "max_steps"),
    ("max_steps float", lambda: opt.newton_polish(OBJ, THETA, max_steps=1.5), TypeError, "max_steps"),
    ("rcond NaN", lambda: opt.newton_polish(OBJ, THETA, rcond=np.nan), ValueError, "rcond"),
    ("rcond negative", lambda: opt.newton_polish(OBJ, THETA, rcond=-1.0), ValueError, "rcond"),
    ("rcond string", lambda: opt.newton_polish(OBJ, THETA, rcond="1e-13"), TypeError, "rcond"),
    # SquaredLoss and hvp
    ("normalization list", lambda: SquaredLoss(NET, X, Y, ["sum"]), TypeError, "normalization"),
    ("normalization None", lambda: SquaredLoss(NET, X, Y, None), TypeError, "normalization"),
    ("hvp v string", lambda: OBJ.hvp(THETA, "abc"), TypeError, "v must be an array"),
    ("hvp v complex", lambda: OBJ.hvp(THETA, np.ones(P) * 1j), TypeError, "v must be an array"),
    ("hvp v None", lambda: OBJ.hvp(THETA, None), TypeError, "v must be an array"),
    # definiteness
    ("definiteness string", lambda: em.definiteness("abc"), TypeError, "M must be an array"),
    ("definiteness complex", lambda: em.definiteness(np.eye(2) * 1j), TypeError, "M must be an array"),
    ("definiteness atol string", lambda: em.definiteness(np.eye(2), atol="0"), TypeError, "atol"),
    ("definiteness rtol NaN", lambda: em.definiteness(np.eye(2), rtol=np.nan), ValueError, "rtol"),
    # training
    ("gd theta0 complex", lambda: tr.gd(OBJ, THETA + 0j, 0.1, 2), TypeError, "theta0"),
    ("gd lr complex", lambda: tr.gd(OBJ, THETA, 0.1j, 2), TypeError, "lr"),
    ("gd lr strings", lambda: tr.gd(OBJ, np.tile(THETA, (2, 1)), ["a", "b"], 2), TypeError, "lr"),
    ("batch weights string", lambda: tr.batch_value_and_gradient(OBJ, THETA[None], "abc"), TypeError, "weights"),
    ("batch thetas bools", lambda: tr.batch_value_and_gradient(OBJ, np.ones((1, P), bool)), TypeError, "thetas"),
    ("minibatch max_batches bool", lambda: tr.minibatch_step_bound(OBJ, THETA, 2, True), TypeError,
     "max_batches"),
    ("sgd rng float", lambda: tr.sgd(OBJ, THETA, 0.1, 2, 2, 1.5), TypeError, "rng"),
    # landscape
    ("loss_along ts string", lambda: ls.loss_along(OBJ, THETA, THETA, "abc"), TypeError, "ts"),
    ("loss_along ts empty", lambda: ls.loss_along(OBJ, THETA, THETA, []), ValueError, "ts"),
    ("losses_at thetas complex", lambda: ls.losses_at(OBJ, THETA[None] + 0j), TypeError, "thetas"),
    ("loss_along_many directions string", lambda: ls.loss_along_many(OBJ, THETA, "abc", [0.0]), TypeError,
     "directions"),
    ("random_directions rng string", lambda: ls.random_directions(3, 2, "x"), TypeError, "rng"),
    ("random_directions n_params bool", lambda: ls.random_directions(True, 2, 0), TypeError, "n_params"),
    ("scan_file n_directions", lambda: ls.scan_file("in.npz", "out.npz", 0, 0, 0.1, 5), ValueError, "n_directions"),
    ("scan_file seed", lambda: ls.scan_file("in.npz", "out.npz", 5, -1, 0.1, 5), ValueError, "seed"),
    ("scan_file t_max NaN", lambda: ls.scan_file("in.npz", "out.npz", 5, 0, np.nan, 5), ValueError, "t_max"),
    ("scan_file n_t", lambda: ls.scan_file("in.npz", "out.npz", 5, 0, 0.1, 1), ValueError, "n_t"),
    ("scan_file n_t float", lambda: ls.scan_file("in.npz", "out.npz", 5, 0, 0.1, 5.0), TypeError, "n_t"),
    # the private copy in constructions took NaN for a TypeError; the shared check says ValueError
    ("fa_teacher_data weight_scale NaN", lambda: cons.fa_teacher_data(weight_scale=np.nan), ValueError,
     "weight_scale must be finite"),
    ("fa_teacher_data n_samples bool", lambda: cons.fa_teacher_data(True), TypeError, "n_samples"),
]


@pytest.mark.parametrize("call,exc,match", [c[1:] for c in HOLES], ids=[c[0] for c in HOLES])
def test_closed_holes_raise_with_a_named_argument(call, exc, match):
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no ComplexWarning (or any other) before the error
        with pytest.raises(exc, match=match):
            call()


def test_hole_descriptions_are_unique():
    names = [c[0] for c in HOLES] + [c[0] for c in CASES]
    assert len(names) == len(set(names))


def test_direction_scan_tol_is_checked():
    scan = ls.direction_scan(OBJ, THETA, ls.random_directions(P, 2, 0), [0.0, 0.1])
    with pytest.raises(TypeError, match="tol"):
        scan.decreasing("0")
    with pytest.raises(ValueError, match="tol"):
        scan.n_decreasing(np.nan)


def test_numpy_scalars_are_accepted_where_python_numbers_are():
    """np.float32 / np.int64 / np.bool_ arguments behave as float / int / bool."""
    cp = opt.find_critical_point(OBJ, THETA, method="none", gtol=np.float32(1e-6), maxiter=np.int64(5),
                                 polish=np.True_)
    ref = opt.find_critical_point(OBJ, THETA, method="none", gtol=float(np.float32(1e-6)), maxiter=5, polish=True)
    assert cp.gtol == ref.gtol and np.array_equal(cp.theta, ref.theta) and cp.newton_steps == ref.newton_steps
    theta, gn, steps = opt.newton_polish(OBJ, THETA, gtol=np.float64(1e-8), max_steps=np.int32(2), rcond=np.float32(0))
    assert steps <= 2 and gn == pytest.approx(np.linalg.norm(OBJ.gradient(theta)))
    assert np.array_equal(NET.init_params(np.int64(3), np.float32(0.5)), NET.init_params(3, 0.5))
    assert Network((2, np.int64(3), 1), biases=np.True_) == Network((2, 3, 1), biases=True)
    run = tr.gd(OBJ, THETA, np.float32(0.01), np.int64(2), record_every=np.int8(1))
    assert np.array_equal(run.final_theta, tr.gd(OBJ, THETA, float(np.float32(0.01)), 2).final_theta)
    g = dv.fd_gradient(OBJ.value, THETA, h=np.float32(1e-5))
    assert np.allclose(g, OBJ.gradient(THETA), rtol=1e-4, atol=1e-6)
    assert SquaredLoss(NET, X, Y, np.str_("half")).c == 0.5


def test_integer_and_float32_arrays_are_converted_exactly():
    """Real numeric arrays of any dtype are accepted: the check refuses kinds, not precisions."""
    assert np.array_equal(NET(THETA.astype(np.float32), X), NET(THETA.astype(np.float32).astype(float), X))
    Xi = np.arange(8).reshape(4, 2)
    assert np.array_equal(NET(THETA, Xi), NET(THETA, Xi.astype(float)))


@pytest.mark.parametrize("call,exc,match", [
    (lambda: vd.check_int(True, "k"), TypeError, "k must be an integer"),
    (lambda: vd.check_int(2.0, "k"), TypeError, "k must be an integer"),
    (lambda: vd.check_int(np.int64(5), "k", 0, 4), ValueError, r"k must be in \[0, 4\], got 5"),
    (lambda: vd.check_int(-1, "k", 0), ValueError, "k must be >= 0"),
    (lambda: vd.check_real(np.nan, "x"), ValueError, "x must be finite"),
    (lambda: vd.check_real(1j, "x"), TypeError, "x must be a real number"),
    (lambda: vd.check_real(np.bool_(True), "x"), TypeError, "x must be a real number"),
    (lambda: vd.check_real(2.0, "x", high=1.0), ValueError, "x must be <= 1.0"),
    (lambda: vd.check_bool(1, "flag"), TypeError, "flag must be True or False"),
    (lambda: vd.check_choice("x", "mode", ["a", "b"]), ValueError, r"mode must be one of \['a', 'b'\]"),
    (lambda: vd.check_choice(["a"], "mode", ["a", "b"]), TypeError, "mode must be one of"),
    (lambda: vd.check_dps(14, 15), ValueError, "dps"),
    (lambda: vd.check_dps(40.0), TypeError, "dps must be an integer"),
    (lambda: vd.check_dps(None), TypeError, "dps"),
    (lambda: vd.check_vector([], "v"), ValueError, "v must not be empty"),
    (lambda: vd.check_vector([1.0, 2.0], "v", 3), ValueError, "v must have length 3"),
    (lambda: vd.check_network(OBJ), TypeError, "net must be a lossland.Network"),
    (lambda: vd.check_objective(NET), TypeError, "objective must be a lossland.SquaredLoss"),
    (lambda: vd.check_callable(3, "f"), TypeError, "f must be callable"),
])
def test_shared_checks_one_wording(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_shared_checks_return_plain_python_values():
    assert type(vd.check_int(np.int64(3), "k")) is int and type(vd.check_real(np.float32(0.5), "x")) is float
    assert vd.check_real(np.int32(2), "x") == 2.0 and vd.check_bool(np.False_, "b") is False
    assert vd.check_dps(None, allow_none=True) is None and vd.check_dps(np.int16(30)) == 30
    assert set(vd.versions()) == {"python", "numpy", "scipy", "lossland"}
    assert vd.versions()["numpy"] == np.__version__
