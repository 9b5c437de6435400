"""The deep teacher-student example of chapters P7 and P8 (000 Section V-C, 001 Section 5.3).

000 illustrates Theorem 6 and Proposition 1 on small sigmoid students without
biases (2-2-2-1, 2-2-1-1) trained on data of a larger sigmoid teacher. The
book fixes that setting once: 50 inputs uniform in [-3, 3)^2, targets of a
2-6-6-1 teacher (with biases) whose weights are i.i.d. N(0, 2^2)
(:func:`lossland.datasets.teacher_student`), and a student minimised with
exact derivatives and Newton-polished (:func:`lossland.optimize.find_critical_point`).
"""
from __future__ import annotations

from ..datasets import teacher_student
from ..derivatives import SquaredLoss
from ..network import Network
from ..optimize import CriticalPoint, find_critical_point
from .._validation import check_int, check_network

__all__ = ["DEEP_TEACHER_WIDTHS", "deep_teacher_data", "deep_student_minimum"]

DEEP_TEACHER_WIDTHS = (2, 6, 6, 1)
"""Widths of the teacher that generates the data of chapters P7 and P8."""


def deep_teacher_data(data_seed: int, n_samples: int = 50):
    """``(X, y)``: ``n_samples`` inputs in [-3, 3)^2 and the 2-6-6-1 teacher's outputs.

    The teacher's weights and the inputs come from ``numpy.random.default_rng(data_seed)``.
    """
    data_seed = check_int(data_seed, "data_seed", 0)
    n_samples = check_int(n_samples, "n_samples", 1)
    X, y, _ = teacher_student(Network(DEEP_TEACHER_WIDTHS), n_samples, data_seed, weight_scale=2.0,
                              low=-3.0, high=3.0)
    return X, y


def deep_student_minimum(student: Network, data_seed: int, init_seed: int, *, n_samples: int = 50,
                         maxiter: int = 400) -> tuple[SquaredLoss, CriticalPoint]:
    """A polished critical point of ``student`` on :func:`deep_teacher_data` (``data_seed``).

    Started at ``student.init_params(init_seed)``, minimised by the trust-region
    method with the exact gradient and Hessian (at most ``maxiter`` iterations),
    then Newton-polished to ||grad L|| <= 1e-10. Returns ``(objective, critical_point)``
    with the loss sum (f - y)^2 of 000; whether it converged, and whether it is a
    strict minimum, is for the caller to check (``critical_point.converged``,
    ``critical_point.eigenvalues``).
    """
    student = check_network(student, "student")
    init_seed = check_int(init_seed, "init_seed", 0)
    X, y = deep_teacher_data(data_seed, n_samples)
    objective = SquaredLoss(student, X, y)
    return objective, find_critical_point(objective, student.init_params(init_seed), maxiter=maxiter)
