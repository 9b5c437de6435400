"""Tests for lossland.nonattracting.deep_example: the teacher-student setting of chapters P7 and P8."""
import numpy as np
import pytest

from lossland import Network, SquaredLoss
from lossland.datasets import teacher_student
from lossland.nonattracting.deep_example import DEEP_TEACHER_WIDTHS, deep_student_minimum, deep_teacher_data


def test_data_come_from_a_2_6_6_1_teacher():
    X, y = deep_teacher_data(3, 20)
    assert X.shape == (20, 2) and y.shape == (20,) and np.all((X >= -3) & (X < 3))
    teacher = Network(DEEP_TEACHER_WIDTHS)
    rng = np.random.default_rng(3)
    theta = teacher.init_params(rng, 2.0)                     # the documented draw order
    X_ref = rng.uniform(-3.0, 3.0, size=(20, 2))
    assert np.array_equal(X, X_ref) and np.allclose(y, teacher(theta, X_ref), rtol=0, atol=0)
    assert np.array_equal(deep_teacher_data(3, 20)[1], teacher_student(teacher, 20, 3, weight_scale=2.0,
                                                                       low=-3.0, high=3.0)[1])


def test_student_minimum_is_a_polished_critical_point():
    student = Network((2, 2, 1, 1), biases=False)
    obj, cp = deep_student_minimum(student, 0, 200)
    assert isinstance(obj, SquaredLoss) and obj.net is student and obj.X.shape == (50, 2)
    assert cp.converged and np.linalg.norm(obj.gradient(cp.theta)) <= 1e-10
    assert cp.loss == pytest.approx(obj.value(cp.theta), rel=1e-14)


def test_errors():
    with pytest.raises(TypeError, match="student"):
        deep_student_minimum((2, 2, 1), 0, 0)
    with pytest.raises(ValueError, match="n_samples"):
        deep_teacher_data(0, 0)
    with pytest.raises(TypeError, match="data_seed"):
        deep_teacher_data(1.5)
