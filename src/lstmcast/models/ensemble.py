"""An ensemble: several networks trained from different seeds, their forecasts averaged.

Averaging members that differ only in their random start cancels part of each one's variance;
on the Beijing benchmarks it lowers the test RMSE a little at the cost of training each member.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn


class Ensemble(nn.Module):
    """The mean of ``members``' outputs: ``(B, T, F) -> (B, O)``.

    Example:
        >>> from lstmcast.models import LSTMNetwork
        >>> net = Ensemble([LSTMNetwork(8, [16]), LSTMNetwork(8, [16])])
        >>> net(torch.randn(4, 24, 8)).shape
        torch.Size([4, 1])
    """

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    @property
    def lstm(self) -> nn.Module:
        """The first member's LSTM (what gate traces read)."""
        return self.members[0].lstm

    def forward(self, x: Tensor) -> Tensor:
        return torch.stack([member(x) for member in self.members]).mean(dim=0)
