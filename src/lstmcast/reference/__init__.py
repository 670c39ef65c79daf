"""The LSTM in NumPy: one step forward, one step backward, BPTT, gate traces, gradient check.

Imports no torch (``NumpyLSTM.from_torch`` imports it when called). It is the teaching
artefact (read ``cell.py`` first) and the oracle every faster implementation is tested against.

Example:
    >>> import numpy as np
    >>> from lstmcast.reference import NumpyLSTM
    >>> m = NumpyLSTM.random(input_size=3, hidden_sizes=[4], seed=0)
    >>> out, (h_n, c_n) = m.forward(np.zeros((2, 5, 3)))
    >>> out.shape, h_n.shape
    ((2, 5, 4), (1, 2, 4))
"""

from lstmcast.reference.cell import CellWeights, StepCache, cell_backward, cell_forward
from lstmcast.reference.gradient_check import GradcheckResult, gradcheck
from lstmcast.reference.lstm import NumpyLSTM, direction_backward, direction_forward
from lstmcast.reference.params import init_params
from lstmcast.reference.traces import GateTrace, format_gate_trace

__all__ = [
    "CellWeights",
    "GateTrace",
    "GradcheckResult",
    "NumpyLSTM",
    "StepCache",
    "cell_backward",
    "cell_forward",
    "direction_backward",
    "direction_forward",
    "format_gate_trace",
    "gradcheck",
    "init_params",
]
