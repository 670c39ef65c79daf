"""Data preparation for the benchmark tasks of ``../shared/benchmarks/PROTOCOL.md`` (B1, B2a, B2b).

Every script that reports a B1 or B2 row (baselines, LSTM, other systems) takes its windows from
here, so that all systems are scored on exactly the same target values.

    from _common import b1_data, b2_data
    task = b2_data(horizon=24, univariate=False)
    model.fit(task.train.X, task.train.Y, task.train.mask)
    rmse(task.test.Y, model.predict(task.test.X), task.test.mask)

Windows are in the data's units (µg/m³ for the target); ``task.scaler`` is fitted as the protocol
prescribes (B1: the whole table; B2: the training split) for models that learn on scaled values:
``task.scaler.transform(X)`` and ``task.scaler.inverse_transform(pred, columns=task.targets)``
(X holds all 8 features in B1 and multivariate B2; univariate B2 uses ``columns=[0]`` for X too).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstmcast.data import (
    MinMaxScaler,
    StandardScaler,
    Table,
    Windows,
    chronological_split,
    load_dataset,
    make_scaler,
    make_windows,
    split_windows,
)

FEATURES = ["pollution", "dew", "temp", "press", "wnd_dir", "wnd_spd", "snow", "rain"]
TARGET = 0  # pollution
B1_TRAIN_ROWS = 365 * 24  # the first 8,760 rows of the supervised table
B2_TRAIN_END, B2_VAL_END = "2012-12-31", "2013-12-31"  # test: 2014
B2_LOOKBACK = 24


@dataclass
class TaskData:
    """The windows of one benchmark task, in data units, and how they were made."""

    task: str  # "B1", "B2a" or "B2b"
    table: Table
    lookback: int
    horizon: int
    inputs: list[int]  # column positions of X's features in table.frame
    targets: list[int]  # column positions of Y's series in table.frame
    train: Windows
    val: Windows | None  # B1 has no validation split
    test: Windows
    scaler: MinMaxScaler | StandardScaler  # fitted per protocol, over every column of the table
    fill: str  # how missing inputs were filled
    note: str  # one line on the setup, for results tables

    @property
    def input_scaler_columns(self) -> list[int]:
        """``columns=`` for ``scaler.transform(X, columns=...)``."""
        return self.inputs

    @property
    def target_in_inputs(self) -> list[int]:
        """Positions of the target series among X's features (``target_idx`` of the baselines)."""
        return [self.inputs.index(t) for t in self.targets]


def b1_data(data_dir: str | None = None) -> TaskData:
    """B1, the classic tutorial replica: NA -> 0, 8 features at t-1 -> pollution at t.

    The scaler is MinMax over the whole table (the tutorial's flaw, kept on purpose); every test
    row is scored, zeros included (``test.mask`` is all True).
    """
    table = load_dataset("beijing-pm25", data_dir=data_dir, fill="none")  # from 2010-01-02 00:00
    table.frame = table.frame.fillna(0.0)
    values = table.frame.to_numpy()
    inputs = list(range(len(FEATURES)))
    # supervised row i pairs the inputs of row i with the target of row i + 1
    train = make_windows(
        values, 1, 1, inputs=inputs, targets=[TARGET], rows=slice(1, B1_TRAIN_ROWS + 1)
    )
    test = make_windows(
        values, 1, 1, inputs=inputs, targets=[TARGET], rows=slice(B1_TRAIN_ROWS + 1, None)
    )
    return TaskData(
        task="B1", table=table, lookback=1, horizon=1, inputs=inputs, targets=[TARGET],
        train=train, val=None, test=test, scaler=MinMaxScaler().fit(values), fill="NA -> 0",
        note="8 features at t-1, NA filled with 0, scaler on all data, every test row scored",
    )  # fmt: skip


def b2_data(
    horizon: int,
    univariate: bool = False,
    *,
    fill: str = "ffill",
    categorical: str = "label",
    scaler: str = "minmax",
    data_dir: str | None = None,
) -> TaskData:
    """B2a (``horizon=1``) or B2b (``horizon=24``): 24 h of inputs, 2010-2012 / 2013 / 2014.

    Args:
        horizon: 1 for B2a, 24 for B2b.
        univariate: inputs are pollution alone instead of the 8 features.
        fill: how missing inputs are filled. ``"ffill"`` (default) is causal: an input never
            depends on a later value. ``"interpolate"`` leaks a little: inside an NA run that
            reaches the end of a window, the interpolated inputs use the first value after the
            run, which can be one of the window's targets.
        categorical: ``"label"`` or ``"onehot"`` for wnd_dir.
        scaler: ``"minmax"`` or ``"standard"``, fitted on the training rows only.
    """
    table = load_dataset("beijing-pm25", data_dir=data_dir, fill=fill, categorical=categorical)
    split = chronological_split(table.frame.index, train_end=B2_TRAIN_END, val_end=B2_VAL_END)
    values, observed = table.frame.to_numpy(), table.observed.to_numpy()
    inputs = [TARGET] if univariate else list(range(values.shape[1]))
    train, val, test = split_windows(
        values, split, B2_LOOKBACK, horizon, inputs=inputs, targets=[TARGET], observed=observed
    )
    return TaskData(
        task="B2a" if horizon == 1 else "B2b" if horizon == 24 else f"B2(H={horizon})",
        table=table, lookback=B2_LOOKBACK, horizon=horizon, inputs=inputs, targets=[TARGET],
        train=train, val=val, test=test,
        scaler=make_scaler(scaler).fit(values[split.train]), fill=fill,
        note=f"24 h of {'pollution' if univariate else '8 features'}, inputs {fill}, "
        "NA targets never scored, scaler on 2010-2012",
    )  # fmt: skip


def n_scored(windows: Windows) -> int:
    return int(np.count_nonzero(windows.mask))
