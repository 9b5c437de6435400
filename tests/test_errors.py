"""Bad input raises ValueError / TypeError whose message names the argument (DESIGN.md)."""
import numpy as np
import pytest

from lossland import Network, SquaredLoss, get_activation
from lossland import datasets as ds
from lossland import derivatives as dv
from lossland import embedding as em
from lossland import landscape as ls
from lossland import optimize as opt

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
    ("output width not 1", lambda: Network((2, 3, 2)), ValueError, "output width"),
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
    ("gtol string", lambda: opt.find_critical_point(OBJ, THETA, gtol="1e-9"), ValueError, "gtol"),
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
