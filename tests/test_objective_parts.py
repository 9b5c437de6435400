"""lossland.nonattracting._objective: result classes expose their loss object's parts."""
import numpy as np

from lossland import Network, SquaredLoss
from lossland.nonattracting._objective import ObjectiveParts


class Holder(ObjectiveParts):
    def __init__(self, objective):
        self.objective = objective


def test_parts_are_the_objectives():
    net = Network((1, 2, 1))
    obj = SquaredLoss(net, np.zeros((3, 1)), np.array([1.0, 2.0, 3.0]), "half")
    h = Holder(obj)
    assert h.net is net and h.X is obj.X and h.y is obj.y and h.normalization == "half"
