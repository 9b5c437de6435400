"""lossland.nonattracting.reference: the reference code's conventions (001 Section 5.4, 000 Section V-D).

The expected numbers come from the papers (001: loss 4.817, B eigenvalues 0.0182, 0.0004,
B(2) = 0.0757) and from the outputs printed in the public reference notebooks
(petzkahe/nonattracting_regions_of_local_minima): 001's "revisionVersion" notebook prints the
loss 4.8174941053601215; 000's notebook (seed 11) prints the loss 0.012729967249371418 at
weights given to eight decimals.
"""
import inspect

import numpy as np
import pytest
from scipy import optimize
from scipy.optimize import approx_fprime

from lossland import Network, SquaredLoss
from lossland.embedding import B_matrix
from lossland.nonattracting.reference import (REFERENCE_GTOL, SCIPY_BFGS_GTOL, ReferenceFDGradient, ReferenceSetup,
                                              agreeing_digits, flat_weights, from_lossland, layer_shapes,
                                              legacy_uniform, reference_forward, reference_loss, rounds_to,
                                              significant_digits, teacher_student_setup, to_lossland, train_bfgs_fd,
                                              train_reference_fd, unflat_weights)
from lossland.optimize import newton_polish


def _random_mats(widths, seed):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-2, 2, sh) for sh in layer_shapes(widths)]


# ------------------------------------------------------------------ conventions
def test_legacy_uniform_is_the_reference_draw():
    np.random.seed(5)
    a = legacy_uniform((3, 2))
    b = legacy_uniform((4,))
    np.random.seed(5)
    assert np.array_equal(a, 10 * np.random.random((3, 2)) - 5)
    assert np.array_equal(b, 10 * np.random.random(4) - 5)
    assert a.shape == (3, 2) and np.all((a >= -5) & (a < 5))


def test_layer_shapes():
    assert layer_shapes([2, 5, 5, 1]) == [(2, 5), (5, 5), (5, 1)]
    assert layer_shapes((3, 1)) == [(3, 1)]
    for bad in ([2, 3], [2, 0, 1], [2], []):
        with pytest.raises(ValueError, match="widths"):
            layer_shapes(bad)


@pytest.mark.parametrize("widths", [(2, 5, 5, 1), (3, 4, 2, 1), (1, 1)])
def test_forward_and_loss_agree_with_lossland(widths):
    mats = _random_mats(widths, 1)
    X = np.random.default_rng(2).uniform(0, 1, (9, widths[0]))
    y = np.random.default_rng(3).standard_normal(9)
    net, theta = to_lossland(mats)
    assert net.widths == tuple(widths) and not net.biases and net.activation.name == "sigmoid"
    out = reference_forward(mats, X)
    assert out.shape == (9, 1)
    assert np.allclose(out[:, 0], net(theta, X), rtol=1e-14, atol=1e-14)
    shapes = [m.shape for m in mats]
    L_ref = reference_loss(flat_weights(mats), X, y.reshape(-1, 1), shapes)
    assert L_ref == pytest.approx(SquaredLoss(net, X, y).value(theta), rel=1e-13)
    back = from_lossland(net, theta)
    assert all(np.array_equal(a, b) for a, b in zip(back, mats))
    assert all(np.array_equal(a, b) for a, b in zip(unflat_weights(flat_weights(mats), shapes), mats))


def test_conversion_errors():
    with pytest.raises(ValueError, match="chain"):
        to_lossland([np.zeros((2, 3)), np.zeros((4, 1))])
    with pytest.raises(TypeError, match="net"):
        from_lossland("net", np.zeros(3))
    with pytest.raises(ValueError, match="biases"):
        from_lossland(Network((2, 1), "sigmoid", biases=True), np.zeros(3))
    with pytest.raises(ValueError, match="flat"):
        unflat_weights(np.zeros(5), [(2, 1), (1, 1)])
    with pytest.raises(ValueError, match="mats"):
        reference_forward([], np.zeros((2, 2)))


# ------------------------------------------------------------ the drawing order
def test_teacher_student_setup_draws_in_the_reference_order():
    s = teacher_student_setup(22, (2, 5, 5, 1), 20, (2, 1, 1, 1))
    assert isinstance(s, ReferenceSetup)
    np.random.seed(22)
    teacher = [10 * np.random.random(sh) - 5 for sh in [(2, 5), (5, 5), (5, 1)]]
    inputs = np.random.random((20, 2))
    student = [10 * np.random.random(sh) - 5 for sh in [(2, 1), (1, 1), (1, 1)]]
    assert all(np.array_equal(a, b) for a, b in zip(s.teacher, teacher))
    assert np.array_equal(s.inputs, inputs) and s.labels.shape == (20, 1)
    assert all(np.array_equal(a, b) for a, b in zip(s.student, student))
    assert np.array_equal(s.labels, reference_forward(teacher, inputs))


@pytest.mark.parametrize("args,match", [
    ((-1, (2, 1), 3, (2, 1)), "seed"),
    ((True, (2, 1), 3, (2, 1)), "seed"),
    ((0, (2, 1), 0, (2, 1)), "n_samples"),
    ((0, (2, 1), 3, (3, 1)), "input width"),
    ((0, (2, 0, 1), 3, (2, 1)), "widths"),
])
def test_teacher_student_setup_errors(args, match):
    with pytest.raises(ValueError, match=match):
        teacher_student_setup(*args)


# ------------------------------------------------- forward differences, bitwise
P11_WIDTHS = ((2, 8, 12, 8, 1), 500, (2, 4, 6, 4, 1))                # teacher, samples, student of 000 V-E
MICRO_WIDTHS = ((2, 3, 3, 1), 30, (2, 2, 2, 1))


def scipy_fd(flat, inputs, labels, shapes):
    """What scipy's BFGS computes without jac: 2-point differences with abs_step sqrt(eps)."""
    with np.errstate(over="ignore"):
        return approx_fprime(flat, reference_loss, np.sqrt(np.finfo(float).eps), inputs, labels, shapes)


def test_fd_gradient_is_bitwise_scipys_on_the_p11_network():
    s = teacher_student_setup(0, *P11_WIDTHS)
    shapes = [m.shape for m in s.student]
    fd = ReferenceFDGradient(s.inputs, s.labels, shapes)
    rng = np.random.default_rng(0)
    x0 = flat_weights(s.student)
    for scale in (0.0, 1.0, 30.0):                                      # 30: saturated sigmoids, exp overflow
        x = x0 + scale * rng.standard_normal(x0.size)
        assert np.array_equal(fd(x), scipy_fd(x, s.inputs, s.labels, shapes))


def test_fd_gradient_uses_scipys_relative_step_where_x_plus_h_equals_x():
    s = teacher_student_setup(1, *MICRO_WIDTHS)
    shapes = [m.shape for m in s.student]
    fd = ReferenceFDGradient(s.inputs, s.labels, shapes)
    x = flat_weights(s.student)
    x[0], x[-1] = 1e12, -3e11                                           # x + sqrt(eps) == x here
    h, dx = fd.steps(x)
    assert h[0] != np.sqrt(np.finfo(float).eps) and np.all(dx != 0)
    assert np.array_equal(fd(x), scipy_fd(x, s.inputs, s.labels, shapes))


def test_fd_gradient_validates_its_input():
    s = teacher_student_setup(0, *MICRO_WIDTHS)
    shapes = [m.shape for m in s.student]
    with pytest.raises(ValueError, match="shapes"):
        ReferenceFDGradient(s.inputs, s.labels, [(2, 2), (3, 1)])
    with pytest.raises(ValueError, match="labels"):
        ReferenceFDGradient(s.inputs, s.labels[:-1], shapes)
    fd = ReferenceFDGradient(s.inputs, s.labels, shapes)
    with pytest.raises(ValueError, match="flat"):
        fd(np.zeros(3))
    with pytest.raises(ValueError, match="flat"):
        fd(np.full(fd.n_params, np.nan))


@pytest.mark.parametrize("gtol", [SCIPY_BFGS_GTOL, REFERENCE_GTOL])
def test_fast_training_follows_the_plain_scipy_trajectory_bit_for_bit(gtol):
    s = teacher_student_setup(2, *MICRO_WIDTHS)
    x_fast, r_fast = train_reference_fd(s.student, s.inputs, s.labels, gtol, fast=True)
    x_plain, r_plain = train_reference_fd(s.student, s.inputs, s.labels, gtol, fast=False)
    assert r_fast.nit == r_plain.nit > 10
    assert np.array_equal(x_fast, x_plain) and r_fast.fun == r_plain.fun
    assert r_fast.message == r_plain.message
    mats, r_bfgs = train_bfgs_fd(s.student, s.inputs, s.labels, gtol)
    assert np.array_equal(flat_weights(mats), x_plain) and r_bfgs.nit == r_plain.nit


def test_one_default_gtol_and_scipys_default_options_for_000_V_E():
    """Both trainers default to 001 Section 5.4's gtol; SCIPY_BFGS_GTOL is what scipy's default options do."""
    for f in (train_bfgs_fd, train_reference_fd):
        assert inspect.signature(f).parameters["gtol"].default == REFERENCE_GTOL == 1e-100
    s = teacher_student_setup(3, *MICRO_WIDTHS)
    shapes = [m.shape for m in s.student]
    with np.errstate(over="ignore"):                                    # the code of 000 V-E: no options, no jac
        plain = optimize.minimize(reference_loss, flat_weights(s.student), (s.inputs, s.labels, shapes),
                                  method="BFGS")
    x, res = train_reference_fd(s.student, s.inputs, s.labels, SCIPY_BFGS_GTOL)
    assert np.array_equal(x, plain.x) and res.nit == plain.nit and res.status == plain.status
    x100, res100 = train_reference_fd(s.student, s.inputs, s.labels)
    assert res100.nit >= res.nit and res100.fun <= res.fun
    for f in (train_bfgs_fd, train_reference_fd):
        with pytest.raises(ValueError, match="gtol"):
            f(s.student, s.inputs, s.labels, gtol=-1.0)


# ------------------------------------------------------- the papers' experiments
def test_001_experiment_reproduces_the_paper_and_the_code():
    """001 Section 5.4: loss 4.817, B eigenvalues 0.0182, 0.0004 and B(2) = 0.0757 (000's eq. (1))."""
    s = teacher_student_setup(22, (2, 5, 5, 1), 20, (2, 1, 1, 1))
    mats, res = train_bfgs_fd(s.student, s.inputs, s.labels)
    assert [m.shape for m in mats] == [(2, 1), (1, 1), (1, 1)]
    assert rounds_to(res.fun, "4.817") and agreeing_digits(res.fun, 4.8174941053601215) >= 11
    net, theta = to_lossland(mats)
    X, y = s.inputs, s.labels[:, 0]
    theta, gnorm, _ = newton_polish(SquaredLoss(net, X, y), theta, gtol=1e-10)
    assert gnorm <= 1e-10
    ev = np.linalg.eigvalsh(B_matrix(SquaredLoss(net, X, y), theta, 1, 0))
    B2 = B_matrix(SquaredLoss(net, X, y), theta, 2, 0)[0, 0]
    assert rounds_to(ev[1], "0.0182") and rounds_to(ev[0], "0.0004") and rounds_to(B2, "0.0757")
    # 001's own eq. (1) (d l_alpha / dn = 2 (f - y) df/dn) gives twice these: not the printed numbers
    assert not (rounds_to(2 * ev[1], "0.0182") or rounds_to(2 * ev[0], "0.0004") or rounds_to(2 * B2, "0.0757"))


def test_000_experiment_data_are_the_codes_data():
    """000's reference notebook: seed 11, 2-2-4-1 teacher, 50 points, 2-2-2-1 student."""
    s = teacher_student_setup(11, (2, 2, 4, 1), 50, (2, 2, 2, 1))
    printed = [np.array([[-2.90634122, 4.78699525], [-0.17851842, -3.46366005]]),
               np.array([[-0.54998944, 3.66500776], [5.78412938, -1.32589009]]),
               np.array([[1.47995946], [5.84531432]])]
    L = reference_loss(flat_weights(printed), s.inputs, s.labels, [m.shape for m in printed])
    assert agreeing_digits(L, 0.012729967249371418) >= 10


# ------------------------------------------------------------- printed numbers
@pytest.mark.parametrize("text,n", [("0.0182", 3), ("4.8170", 5), ("0", 1), ("1.78733908e-08", 9),
                                    ("-0.0757", 3), ("4.8174941053601215", 17), ("120", 3)])
def test_significant_digits(text, n):
    assert significant_digits(text) == n


def test_rounds_to():
    assert rounds_to(0.0182375, "0.0182") and rounds_to(0.00043636, "0.0004")
    assert rounds_to(4.8174941, "4.817") and rounds_to(-0.07566, "-0.0757")
    assert not rounds_to(0.0364750, "0.0182") and not rounds_to(4.8185, "4.817")
    assert rounds_to(np.float64(0.0757), "0.0757")
    assert rounds_to(4.8174941053601215, "4.8174941053601215")


def test_agreeing_digits():
    assert agreeing_digits(4.8174941053608356, 4.8174941053601215) == 12
    assert agreeing_digits(1.0, 1.0) == 17
    assert agreeing_digits(1.0, 2.0) == 0 and agreeing_digits(-3.0, 3.0) == 0
    assert agreeing_digits(1.0004, 1.0) == 3
    assert agreeing_digits(np.float64(0.01823750), 0.01823757) == 5


@pytest.mark.parametrize("call,exc,match", [
    (lambda: significant_digits(0.5), TypeError, "printed"),
    (lambda: significant_digits("abc"), ValueError, "printed"),
    (lambda: significant_digits("inf"), ValueError, "printed"),
    (lambda: rounds_to(float("nan"), "1"), ValueError, "value"),
    (lambda: rounds_to(True, "1"), ValueError, "value"),
    (lambda: rounds_to(1.0, 1.0), TypeError, "printed"),
    (lambda: agreeing_digits(1.0, 0.0), ValueError, "reference"),
    (lambda: agreeing_digits(float("inf"), 1.0), ValueError, "value"),
    (lambda: agreeing_digits(1.0, "1"), ValueError, "reference"),
])
def test_digit_helpers_reject_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
