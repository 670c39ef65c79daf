"""The public estimator: ``Forecaster(config).fit(data)``, then predict, evaluate, save, load.

It reads a table (a registry name such as ``beijing-pm25``, a CSV/Parquet path, or a DataFrame),
splits it by time, fits the scaler on the training split only, cuts ``(samples, timesteps,
features)`` windows, trains an LSTM network by backpropagation through time, and scores its
forecasts in the data's own units beside every naive baseline on exactly the same rows.

Example:
    >>> from lstmcast import Forecaster, ForecastConfig
    >>> fc = Forecaster(ForecastConfig(data="beijing-pm25", horizon=24)).fit()  # doctest: +SKIP
    >>> fc.predict()                     # the next 24 hours after the data's end  # doctest: +SKIP
    >>> fc.evaluate()["results"][0]      # {"name": "lstm", "rmse": ..., ...}     # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from numpy.lib.stride_tricks import sliding_window_view

from lstmcast.baselines.chunks import rows_per_chunk
from lstmcast.checkpoint import CHECKPOINT
from lstmcast.config import ForecastConfig
from lstmcast.data import Table, make_scaler, make_windows
from lstmcast.data.checks import (
    check_columns_used,
    check_length,
    check_no_free_text,
    check_regular,
)
from lstmcast.data.columns import resolve_columns
from lstmcast.data.history import last_window
from lstmcast.data.periods import scoring_rows, split_fractions, split_table
from lstmcast.data.registry import column_units
from lstmcast.data.sources import name_of, read_data, source_of, training_data_again
from lstmcast.data.split import Split
from lstmcast.data.windows import check_float32, check_input_windows
from lstmcast.errors import (
    ConfigError,
    DataError,
    FitInterruptedWarning,
    NotFittedError,
    warn,
)
from lstmcast.evaluation.scoreboard import result_row, score_baselines
from lstmcast.models.ensemble import Ensemble
from lstmcast.train import (
    predict_network,
    seed_everything,
    train_network,
    warm_up,
    window_tensor,
)

# bytes a training or validation target value costs at most on the way into training: its
# window's copy where some target is unobserved (8) and mask (1), the float32 targets (4), and
# train_network's NaN test (1), zero-filled copy (4) and float mask (4)
TARGET_BYTES = 22


def _checked_config(config: ForecastConfig | None) -> ForecastConfig:
    """``config``, the default settings for None, or a one-line refusal of anything else."""
    if config is None:
        return ForecastConfig()
    if not isinstance(config, ForecastConfig):
        raise ConfigError(
            f"Forecaster takes a ForecastConfig, got a {type(config).__name__}: "
            "wrap the settings, Forecaster(ForecastConfig(**settings))"
        )
    return config


class Forecaster:
    """An LSTM forecaster with scikit-learn manners: the constructor only stores the config."""

    def __init__(self, config: ForecastConfig | None = None) -> None:
        self.config = _checked_config(config)

    # scikit-learn manners: clone(), get_params() and set_params() see the one parameter
    def get_params(self, deep: bool = True) -> dict:
        """``{"config": ForecastConfig}``, the constructor's one argument (``sklearn.clone``)."""
        return {"config": self.config}

    def set_params(self, **params) -> Forecaster:
        """Set ``config``, or single settings by name: ``set_params(units=[32], epochs=10)``.

        A fitted forecaster forgets its fit (its network was trained with the old settings),
        with a warning: call ``fit()`` again. Bad settings change nothing.
        """
        config = _checked_config(params.pop("config", self.config))
        names = [f.name for f in dataclasses.fields(ForecastConfig)]
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise ConfigError(
                f"unknown setting(s) {unknown}: give ForecastConfig fields ({', '.join(names)})"
            )
        config = config.replace(**params) if params else config
        if hasattr(self, "network_"):
            warn(
                "set_params makes this Forecaster forget its fit (the network was trained with "
                "the old settings): call fit() again before predict, evaluate or save",
            )
        self.__dict__.clear()
        self.__init__(config)
        return self

    def __repr__(self) -> str:
        default = ForecastConfig()
        changed = ", ".join(
            f"{f.name}={getattr(self.config, f.name)!r}"
            for f in dataclasses.fields(ForecastConfig)
            if getattr(self.config, f.name) != getattr(default, f.name)
        )
        return f"Forecaster(ForecastConfig({changed}))"

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        data: Table | pd.DataFrame | str | None = None,
        *,
        checkpoint_dir: str | os.PathLike | None = None,
        resume: bool = False,
    ) -> Forecaster:
        """Train on the training split of ``data`` (default: ``config.data``); returns self.

        With ``checkpoint_dir`` the trainer state is saved there after every epoch; ``resume=True``
        continues from it (same config and data) and ends with the same weights as a run that
        was never stopped. A fit that fails (bad data, a diverging loss) leaves the forecaster
        as it was before: fitted by an earlier ``fit``, or not fitted.
        """
        before = dict(self.__dict__)
        try:
            return self._fit(data, checkpoint_dir, resume)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _fit(self, data, checkpoint_dir, resume: bool) -> Forecaster:
        table = self.read(data)
        for stale in ("last_forecasts_", "last_truth_"):  # of an earlier fit's evaluate()
            self.__dict__.pop(stale, None)
        # the data actually fitted names the run (its dataset, units); config stays as given
        self.data_name_ = self.config.data if data is None else name_of(data, table)
        cfg = self.config
        self.targets_, self.inputs_, self.split_ = self.plan(table)
        index = table.frame.index  # where training and validation end: evaluate splits there
        self.split_ends_ = [str(index[part.stop - 1]) if part.stop > part.start else None
                            for part in (self.split_.train, self.split_.val)]  # fmt: skip
        self.table_ = table
        self._checkpoint_dir = checkpoint_dir  # save may replace this checkpoint, no other
        self.data_source_ = source_of(cfg.data if data is None else data)
        self.freq_ = table.freq
        self.encodings_ = table.encodings
        self.columns_ = self.inputs_ + [c for c in self.targets_ if c not in self.inputs_]
        values, observed = self._arrays(table)
        self._check_memory(values)
        self.scaler_ = make_scaler(cfg.scaler).fit(values[self.split_.train])
        scaled = self.scaler_.transform(values)

        train = self._windows(scaled, observed, self.split_.train)
        val = self._windows(scaled, observed, self.split_.val)
        if len(train.X) == 0:
            raise DataError(
                "the training split holds no complete window: "
                f"it needs at least lookback + horizon = "
                f"{cfg.lookback + cfg.horizon} rows"
            )
        if not val.mask.any():  # early stopping would watch a loss of 0
            index = table.frame.index
            raise DataError(
                f"the validation split ({index[self.split_.val.start]} to "
                f"{index[self.split_.val.stop - 1]}) holds no observed value of "
                f"{', '.join(self.targets_)}, so it cannot tell good epochs from bad: move the "
                "split (--train-end/--val-end, or --val-fraction) to rows where it is observed"
            )
        n_in = len(self.inputs_)
        members, histories = [], []
        warm_up()  # fit_seconds_ measures fitting, not the process's first-optimizer import
        start = time.perf_counter()
        for k in range(cfg.ensemble):
            seed_everything(cfg.seed + k)
            member = self._new_network()
            folder = checkpoint_dir
            if checkpoint_dir is not None and cfg.ensemble > 1:
                folder = Path(checkpoint_dir) / f"member{k}"
            histories.append(
                train_network(
                    member,
                    train.X[..., :n_in],
                    self._encode_targets(train),
                    dataclasses.replace(cfg.train_config(), seed=cfg.seed + k),
                    X_val=val.X[..., :n_in],  # check_length: the split holds a window
                    Y_val=self._encode_targets(val),
                    checkpoint_dir=folder,
                    # members finished before a stop resume from their own checkpoint
                    resume=resume and (k == 0 or (Path(folder) / CHECKPOINT).is_file()),
                    label=f"network {k + 1}/{cfg.ensemble} " if cfg.ensemble > 1 else "",
                )
            )
            members.append(member)
            if histories[-1].interrupted:
                break
        self.network_ = members[0] if cfg.ensemble == 1 else Ensemble(members)
        # a stop in any member must be seen (the CLI then keeps the checkpoints, saves nothing)
        self.history_ = histories[-1] if histories[-1].interrupted else histories[0]
        self.member_histories_ = histories
        self.fit_seconds_ = time.perf_counter() - start
        if resume:  # the clock saw only the epochs after the stop: count every epoch's time
            self.fit_seconds_ = sum(sum(h.epoch_seconds) for h in histories)
        if self.history_.interrupted:  # the caller goes on: say what it goes on with
            where = f" of network {k + 1} of {cfg.ensemble}" if cfg.ensemble > 1 else ""
            again = "fit() again" if checkpoint_dir is None else "fit(..., resume=True)"
            warn(
                f"fit was interrupted after epoch {len(self.history_.train_loss)} of "
                f"{cfg.epochs}{where}: the forecaster holds the best weights so far "
                f"(history_.interrupted is True) and save() refuses it; {again} to finish",
                FitInterruptedWarning,
            )
        return self

    # ------------------------------------------------------------------ predict
    def predict(self, data: Table | pd.DataFrame | str | None = None) -> pd.DataFrame:
        """Forecast the ``horizon`` steps after the end of ``data`` (default: the training table).

        Returns a DataFrame indexed by the future timestamps, one column per target, in the
        data's units. Timestamps are in the history's zone when it has one (UTC offsets or a
        tz-aware index: ``Table.tz``), else naive as the history's.
        """
        table = self._history(data, "predict")
        window, last = last_window(
            table, self.columns_, self.inputs_, self.config.lookback, self.config.fill, "predict"
        )
        pred = self.predict_windows(window[None])[0]  # (H, Ft)
        if self.freq_ is not None:
            index = pd.date_range(last, periods=self.config.horizon + 1, freq=self.freq_)[1:]
            if table.tz is not None:  # the history's own zone (its index is in UTC)
                index = index.tz_localize("UTC").tz_convert(table.tz)
        else:
            index = pd.RangeIndex(1, self.config.horizon + 1, name="step")
        return pd.DataFrame(pred, index=index, columns=self.targets_).rename_axis(
            index.name or "time"
        )

    def gate_traces(self, data: Table | pd.DataFrame | str | None = None) -> dict:
        """What the gates did on the last window of ``data``: ``f, i, g, o, c, h`` per layer.

        Runs the NumPy reference (``lstmcast.reference``) on a float64 copy of the trained LSTM
        and returns its ``GateTrace`` dict keyed ``"l0"``, ``"l0_reverse"``, ``"l1"``, ...; each
        array is ``(1, lookback, units)``. With ``ensemble > 1`` these are the first network's
        gates (the one trained from ``seed``); the forecasts average every network's. See
        docs/lstm_cell.md.
        """
        from lstmcast.reference import NumpyLSTM

        table = self._history(data, "gate_traces")
        window, _ = last_window(
            table,
            self.columns_,
            self.inputs_,
            self.config.lookback,
            self.config.fill,
            "gate_traces()",
        )
        window = self.scaler_.transform(window, columns=range(len(self.inputs_)))  # (L, Fi)
        _, _, gates = NumpyLSTM.from_torch(self.network_.lstm).forward(
            window[None], return_gates=True
        )
        return gates

    def _history(self, data, method: str) -> Table:
        """The table a forecast starts from: ``data`` read as new rows, else the training
        table; ConfigError for a loaded model, which keeps no data."""
        self._check_fitted()
        if data is None and not hasattr(self, "table_"):
            raise ConfigError(
                f"a loaded model keeps no data: pass the recent history, e.g. "
                f"{method}('latest.csv')"
            )
        return self.table_ if data is None else self.read(data, for_predict=True)

    def predict_windows(self, X: np.ndarray) -> np.ndarray:
        """Forecasts ``(S, H, Ft)`` in data units from raw input windows ``(S, L, Fi)``."""
        self._check_fitted()
        X = np.asarray(X, dtype=np.float64)  # (S, L, Fi)
        rows = check_input_windows(X, self.config.lookback, self.inputs_)
        inputs = range(len(self.inputs_))
        if rows is None:
            scaled_X = self.scaler_.transform(X, columns=inputs)  # (S, L, Fi)
        else:  # make_windows' view: scale its rows once, not every window's copy of them
            scaled = self.scaler_.transform(rows, columns=inputs)  # (S + L - 1, Fi)
            scaled_X = sliding_window_view(scaled, X.shape[1], axis=0).swapaxes(1, 2)
        check_float32(scaled_X if rows is None else scaled, self.inputs_)
        out = predict_network(self.network_, window_tensor(scaled_X)).numpy().astype(np.float64)
        out = out.reshape(len(X), self.config.horizon, len(self.targets_))  # (S, H, Ft)
        if self._residual():
            out = out + scaled_X[:, -1, self._target_input_pos()][:, None, :]
        out = self._inverse_targets(out)
        if not np.isfinite(out).all():
            raise DataError(
                "predict_windows: the forecasts overflow (not finite numbers): the inputs lie "
                "far outside the values the model was trained on (check their units), or the "
                "model's scaler statistics are damaged (retrain and save it again)"
            )
        return out

    # ------------------------------------------------------------------ evaluate
    def evaluate(
        self,
        data: Table | pd.DataFrame | str | None = None,
        split: str = "test",
        baselines: tuple[str, ...] | None = None,
        name: str = "lstm",
        status: Callable[[str], None] | None = None,
    ) -> dict:
        """Score the model and the baselines on the same windows of ``split`` (data units).

        ``baselines`` default to ``DEFAULT_BASELINES`` (persistence, seasonal naive, ridge, VAR:
        what ``lstmcast evaluate`` scores); persistence is always scored. A baseline that cannot
        run here (a season longer than the lookback, a fit too big for the free memory) is left
        out with a warning. ``status`` hears each baseline as it starts (the CLI prints these
        stages on a terminal); evaluate itself prints nothing.

        Returns ``{"dataset", "split", "horizon", "results": [...], ...}`` where each result has
        ``name, inputs, rmse, mae, n_scored`` and per-step errors.
        """
        self._check_fitted()
        if data is None and not hasattr(self, "table_"):
            data = training_data_again(getattr(self, "data_source_", None), self._data_name())
        table = self.table_ if data is None else self.read(data, for_predict=True)
        if split not in ("train", "val", "test"):
            raise ConfigError(f"split must be train, val or test, got {split!r}")
        own_split = self.split_ if data is None and hasattr(self, "split_") else None
        rows, train_rows = scoring_rows(
            table, split, self.run_config(), own_split, getattr(self, "split_ends_", None)
        )
        values, observed = self._arrays(table)
        rows = self._unfilled_rows(table, rows, observed, split)
        truth = self._windows(values, observed, rows)  # Y in data units, NaN where unobserved
        read = values[truth.t0[0] - self.config.lookback : truth.t0[-1], : len(self.inputs_)]
        holes = np.isnan(read).any(axis=0)  # (Fi,) over the rows the windows read
        if holes.any():  # fill leaves gaps only in a column without any value
            names = [c for c, hole in zip(self.inputs_, holes, strict=True) if hole]
            raise DataError(
                f"{table.name}: input column(s) {names} have missing values in the {split} "
                f"windows that fill={self.config.fill!r} cannot fill, so they cannot be scored: "
                "pass a table in which every input column is observed"
            )
        units = column_units(self._data_name(), self.targets_)
        start = time.perf_counter()
        pred = self.predict_windows(truth.X[..., : len(self.inputs_)])
        model_row = result_row(
            name,
            self._inputs_label(),
            truth,
            pred,
            self.targets_,
            units,
            fit=getattr(self, "fit_seconds_", None),
            predict=time.perf_counter() - start,
        )
        L, H = self.config.lookback, self.config.horizon
        # new data alone (no rows of the training period): the baselines that learn are left out
        train = self._windows(values, observed, train_rows) if train_rows.stop >= L + H else None
        baseline_rows, forecasts = score_baselines(
            baselines,
            truth,
            train,
            inputs=self.inputs_,
            targets=self.targets_,
            columns=self.columns_,
            inputs_label=self._inputs_label(),
            units=units,
            freq=self.freq_,
            lookback=L,
            table_name=table.name,
            split_ends=getattr(self, "split_ends_", None),
            status=status,
        )
        self.last_forecasts_ = {name: pred, **forecasts}
        self.last_truth_ = truth
        shared = {units.get(c) for c in self.targets_}
        return {
            "dataset": self._data_name(),
            "split": split,
            "horizon": self.config.horizon,
            "target": self.targets_[0] if len(self.targets_) == 1 else self.targets_,
            "unit": shared.pop() if len(shared) == 1 else None,  # None: unknown or mixed
            "results": [model_row, *baseline_rows],
        }

    # ------------------------------------------------------------------ save / load
    def save(self, path: str | os.PathLike) -> None:
        """Write the model directory ``path`` atomically (manifest.json + weights.safetensors).

        A fit stopped by Ctrl-C is not saved: its network (or some network of an ensemble) is
        not fully trained.
        """
        from lstmcast.modelfile import save_forecaster

        self._check_fitted()
        if self.history_.interrupted:
            histories = self.member_histories_
            where = (
                f" of network {len(histories)} of {self.config.ensemble}"
                if self.config.ensemble > 1
                else ""
            )
            again = (
                f"fit(checkpoint_dir={str(self._checkpoint_dir)!r}, resume=True)"
                if self._checkpoint_dir is not None
                else "fit()"
            )
            raise NotFittedError(
                f"this fit was interrupted after epoch {len(self.history_.train_loss)}{where}, "
                f"so it is not saved: finish it first, {again}"
            )
        save_forecaster(self, path)

    def plan(self, table: Table, lookback: int | None = None) -> tuple[list, list, Split]:
        """The targets, inputs and split that fitting on ``table`` would use, after the checks
        that fit makes first (a regular time step, splits long enough for ``lookback``, default
        the config's, and the columns observed in the training split)."""
        cfg = self.run_config()
        check_regular(table)
        targets, inputs = resolve_columns(table, cfg)
        split = split_table(table, cfg)
        check_length(table, split, lookback or cfg.lookback, cfg.horizon, split_fractions(cfg))
        check_columns_used(table, split.train, inputs + [c for c in targets if c not in inputs],
                           targets)  # fmt: skip
        return targets, inputs, split

    # ------------------------------------------------------------------ helpers
    def read(
        self,
        data: Table | pd.DataFrame | str | os.PathLike | None = None,
        for_predict: bool = False,
    ) -> Table:
        """Read ``data`` (default ``config.data``) as this forecaster reads tables.

        With ``for_predict`` the table gets the trained model's category codes and is checked
        for its columns and frequency.
        """
        if not for_predict:
            return read_data(data, self.config)
        return read_data(
            data,
            self.config,
            for_predict=True,
            encodings=self.encodings_,
            source=getattr(self, "data_source_", None),
            inputs=self.inputs_,
            freq=self.freq_,
        )

    def _arrays(self, table: Table) -> tuple[np.ndarray, np.ndarray]:
        missing = [c for c in self.columns_ if c not in table.frame.columns]
        check_no_free_text(table, missing)
        if missing:  # new data need not hold a target that is no input, unless it is scored
            raise DataError(
                f"{table.name} lacks the target column(s) {missing} to score the forecasts "
                f"against; evaluating needs {self.columns_} (predict needs only the inputs)"
            )
        values = table.frame[self.columns_].to_numpy(dtype=np.float64)  # (N, F)
        observed = table.observed[self.columns_].to_numpy(dtype=bool)
        return values, observed

    def _check_memory(self, values: np.ndarray) -> None:
        """DataError, before training starts, when the training and validation windows' targets
        and inputs would not fit in the memory free here (``baselines.budget``): a traceback
        after an hour of training said so before."""
        from lstmcast.baselines.budget import MEMORY_SHARE, available_memory, size

        L, H, Ft = self.config.lookback, self.config.horizon, len(self.targets_)
        windows = sum(max(0, part.stop - max(part.start, L) - H + 1)
                      for part in (self.split_.train, self.split_.val))  # fmt: skip
        targets = TARGET_BYTES * windows * H * Ft
        need = targets + values.nbytes + 4 * values.size  # + the scaled table and its float32
        free = available_memory()
        if free is None or need <= MEMORY_SHARE * free:
            return
        raise DataError(
            f"training needs about {size(need)} ({size(targets)} for {windows:,} windows x "
            f"{H} steps x {Ft} targets), but {size(free)} is free here: forecast fewer targets "
            "(--target), a shorter --horizon, or fewer rows"
        )

    def _unfilled_rows(self, table: Table, rows: slice, observed: np.ndarray, split: str) -> slice:
        """``rows`` less the first targets at or before some column's first observed value: the
        fill copies that value back over the rows before it, so their windows would read their
        own future (a persistence error of exactly 0). A window whose targets all come after
        it reads only the past, back-filled rows included."""
        H = self.config.horizon
        seen = observed.any(axis=0)  # (F,): a column without values is refused elsewhere
        first = observed[:, seen].argmax(axis=0)  # each column's first observed row
        if not len(first) or first.max() < rows.start:
            return rows
        column = [c for c, s in zip(self.columns_, seen, strict=True) if s][first.argmax()]
        start = int(first.max()) + 1
        if rows.stop - start < H:
            raise DataError(
                f"{table.name}: column {column!r} is first observed at "
                f"{table.frame.index[first.max()]}, too late for any window of the {split} rows "
                f"(horizon {H}) to read it before its targets: pass a table in which it is "
                f"observed at least {H + 1} rows before the {split} rows end"
            )
        return slice(start, rows.stop)

    def _windows(self, values: np.ndarray, observed: np.ndarray, rows: slice):
        return make_windows(
            values,
            self.config.lookback,
            self.config.horizon,
            inputs=range(len(self.columns_)),
            targets=[self.columns_.index(c) for c in self.targets_],
            rows=rows,
            observed=observed,
        )

    def _encode_targets(self, w) -> np.ndarray:
        """Scaled targets ``(S, H*Ft)`` as the network learns them (NaN where unobserved), in
        float32, the network's type (rounded as ``train_network`` rounds them), computed a
        chunk of windows at a time: no float64 copy of every window's targets."""
        S, H, Ft = w.Y.shape
        out = np.empty((S, H * Ft), dtype=np.float32)
        last = w.X[:, -1, self._target_input_pos()] if self._residual() else None  # (S, Ft)
        size = rows_per_chunk(H * Ft)  # windows a chunk: CHUNK_VALUES target values
        for start in range(0, S, size):
            s = slice(start, start + size)
            Y = w.Y[s] if last is None else w.Y[s] - last[s][:, None, :]  # (S', H, Ft) float64
            out[s] = Y.reshape(len(Y), -1)
        return out

    def _residual(self) -> bool:
        return self.config.residual and all(c in self.inputs_ for c in self.targets_)

    def _target_input_pos(self) -> list[int]:
        return [self.inputs_.index(c) for c in self.targets_]

    def _inverse_targets(self, scaled: np.ndarray) -> np.ndarray:
        """Undo the scaler on target values ``(..., Ft)``."""
        idx = [self.columns_.index(c) for c in self.targets_]
        return self.scaler_.inverse_transform(scaled, columns=idx)

    def untrained_network(self) -> torch.nn.Module:
        """A fresh network of the fitted shape (an Ensemble when ``ensemble`` > 1): ``load``
        puts the saved weights into it."""
        if self.config.ensemble == 1:
            return self._new_network()
        return Ensemble([self._new_network() for _ in range(self.config.ensemble)])

    def _new_network(self) -> torch.nn.Module:
        from lstmcast.models import LSTMNetwork

        cfg = self.config
        return LSTMNetwork(
            len(self.inputs_),
            cfg.units,
            n_outputs=cfg.horizon * len(self.targets_),
            bidirectional=cfg.bidirectional,
            dropout=cfg.dropout,
            activation=cfg.activation,
        )

    def _inputs_label(self) -> str:
        single = self.inputs_ == self.targets_ and len(self.targets_) == 1
        return "univariate" if single else "multivariate"  # several targets read each other

    def _data_name(self) -> str:
        """The name of the data the network was fitted on: a path, a dataset, or "DataFrame"."""
        return getattr(self, "data_name_", self.config.data)

    def run_config(self) -> ForecastConfig:
        """``config`` with ``data`` naming the data actually fitted (``fit(frame)`` leaves
        ``config`` as given): what chose the run's default target, split and units."""
        name = self._data_name()
        return self.config if name == self.config.data else self.config.replace(data=name)

    def score_forecasts(
        self,
        name: str,
        inputs: str,
        pred: np.ndarray,
        fit: float | None = None,
        predict: float | None = None,
    ) -> dict:
        """The result row (as in ``evaluate``) of forecasts ``pred`` made elsewhere for the
        windows of the last ``evaluate``; ``compare`` scores per-target univariate LSTMs so."""
        if not hasattr(self, "last_truth_"):
            raise NotFittedError("score_forecasts scores the windows of evaluate(): call it first")
        if pred.shape != self.last_truth_.Y.shape:
            raise DataError(
                f"forecasts of shape {pred.shape} do not fit the last evaluate()'s windows "
                f"{self.last_truth_.Y.shape} (windows, horizon, targets)"
            )
        units = column_units(self._data_name(), self.targets_)
        return result_row(
            name, inputs, self.last_truth_, pred, self.targets_, units, fit=fit, predict=predict
        )

    def _check_fitted(self) -> None:
        if not hasattr(self, "network_"):
            raise NotFittedError(
                "this Forecaster is not fitted yet: call fit() first, or "
                "lstmcast.load(DIR) a saved model"
            )
