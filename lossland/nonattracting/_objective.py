"""A mixin for result classes that keep the loss object: its network, data and normalisation by name."""
from __future__ import annotations

import numpy as np

from ..network import Network


class ObjectiveParts:
    """``net``, ``X``, ``y``, ``normalization`` of the attribute ``objective`` (a :class:`lossland.SquaredLoss`)."""

    @property
    def net(self) -> Network:
        return self.objective.net

    @property
    def X(self) -> np.ndarray:
        return self.objective.X

    @property
    def y(self) -> np.ndarray:
        return self.objective.y

    @property
    def normalization(self) -> str:
        return self.objective.normalization
