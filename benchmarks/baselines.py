"""The baseline scoreboard: B1 and B2a/B2b of ../shared/benchmarks/PROTOCOL.md for every baseline.

Writes the ``baselines`` section of benchmarks/results.md. Run from the repository root:

    LSTMCAST_DATA=../shared/data python benchmarks/baselines.py

Persistence and seasonal naive read only the pollution series ("univariate"); ridge and VAR run
on 24 h of pollution alone and of all 8 features. B2 inputs are forward filled (causal); the rows
marked "interpolate" repeat the linear-interpolation setting to show what its look-ahead is worth.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import TaskData, b1_data, b2_data, n_scored  # noqa: E402
from _results import write_section  # noqa: E402

from lstmcast.baselines import BASELINES  # noqa: E402
from lstmcast.data import make_windows  # noqa: E402
from lstmcast.evaluation import mae, rmse  # noqa: E402

PUBLISHED_B1_LSTM = 26.496  # the tutorial's published test RMSE


def run(task: TaskData, name: str, target_idx: list[int], *, filled_targets: bool = False,
        **kwargs) -> dict:  # fmt: skip
    """Fit on the training windows, predict the test windows, score in µg/m³.

    ``filled_targets`` trains on the filled table values at NA target hours (not the protocol:
    only to reproduce the figures quoted on the issue tracker).
    """
    model = BASELINES[name](target_idx, **kwargs)
    train = task.train
    if filled_targets:
        values = task.table.frame.to_numpy()
        train = make_windows(values, task.lookback, task.horizon, inputs=task.inputs,
                             targets=task.targets, rows=slice(0, task.val.t0[0]))  # fmt: skip
    start = time.perf_counter()
    model.fit(train.X, train.Y, train.mask)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    pred = model.predict(task.test.X)
    predict_s = time.perf_counter() - start
    system = name + (f" (p={model.order_})" if hasattr(model, "order_") else "")
    if name == "seasonal_naive":
        system += f" (period {model.period})"
    if filled_targets:
        system += ", trained on filled NA targets"
    return {
        "task": task.task,
        "system": system,
        "inputs": _inputs(task),
        "rmse": rmse(task.test.Y, pred, task.test.mask),
        "mae": mae(task.test.Y, pred, task.test.mask),
        "n": n_scored(task.test),
        "fit_s": fit_s,
        "predict_s": predict_s,
    }


def _inputs(task: TaskData) -> str:
    what = "pollution" if len(task.inputs) == 1 else f"{len(task.inputs)} features"
    return f"{task.lookback} h of {what}" + (f", {task.fill}" if task.task != "B1" else "")


def main() -> None:
    rows = []
    b1 = b1_data()
    for name in ("persistence", "ridge", "var"):  # seasonal naive needs 24 h of history
        rows.append(run(b1, name, b1.target_in_inputs))
    for horizon in (1, 24):
        uni = b2_data(horizon, univariate=True)
        multi = b2_data(horizon)
        rows.append(run(uni, "persistence", [0]))
        rows.append(run(uni, "seasonal_naive", [0], period=24))
        for task in (uni, multi):
            rows.append(run(task, "ridge", [0]))
            rows.append(run(task, "var", [0]))
            rows.append(run(task, "gbm", [0]))
        rows.append(run(b2_data(horizon, univariate=True, fill="interpolate"), "persistence", [0]))
        leaky = b2_data(horizon, fill="interpolate")
        rows.append(run(leaky, "ridge", [0]))
        rows.append(run(leaky, "ridge", [0], filled_targets=True))
    for row in rows:
        print(f"{row['task']:4s} {row['system']:28s} {row['inputs']:28s} RMSE {row['rmse']:7.2f} "
              f"MAE {row['mae']:6.2f} n {row['n']:7d} fit {row['fit_s']:6.2f}s "
              f"predict {row['predict_s']:5.2f}s")  # fmt: skip
    write_section("baselines", markdown(rows))


def markdown(rows: list[dict]) -> str:
    def find(task: str, system: str, inputs: str = "") -> dict:
        return next(r for r in rows if r["task"] == task and r["system"].startswith(system)
                    and inputs in r["inputs"])  # fmt: skip

    b2a, b2b = find("B2a", "persistence", "ffill"), find("B2b", "persistence", "ffill")
    b1 = find("B1", "persistence")
    tracker_a, tracker_b = find("B2a", "ridge, trained"), find("B2b", "ridge, trained")
    lines = [
        "## Baselines (B1, B2a, B2b)",
        "",
        "Written by `benchmarks/baselines.py` (`LSTMCAST_DATA=../shared/data python "
        "benchmarks/baselines.py`); data preparation in `benchmarks/_common.py`. Errors in µg/m³ "
        "on the test split; fit and predict times are wall seconds on a shared 2-core machine "
        "(noise, compare only within a run).",
        "",
        "| task | system | inputs | RMSE | MAE | n scored | fit s | predict s |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['task']} | {r['system']} | {r['inputs']} | {r['rmse']:.2f} | {r['mae']:.2f} "
            f"| {r['n']:,} | {r['fit_s']:.2f} | {r['predict_s']:.3f} |"
        )
    lines += [
        "",
        f"**B2 persistence on the 2014 test split: RMSE {b2a['rmse']:.2f} (B2a, t+1) and "
        f"{b2b['rmse']:.2f} (B2b, t+1..t+24)**, MAE {b2a['mae']:.2f} and {b2b['mae']:.2f}. "
        f"B1 persistence: RMSE {b1['rmse']:.2f} (the tutorial's published LSTM: "
        f"{PUBLISHED_B1_LSTM}).",
        "",
        "- B1 follows the tutorial exactly: NA pollution filled with 0, inputs = the 8 features at "
        "t-1, train = the first 8,760 supervised rows, test = the other 35,039, every test row "
        "scored (zeros included). Seasonal naive has no B1 row: one hour of history holds no "
        "season. Ridge and VAR(1) see the same single hour; both are then a least-squares "
        "line through the 8 features at t-1, hence the same score.",
        "- B2: train 2010-01-02..2012, validation 2013, test 2014; windows look back across the "
        "split boundary, every target lies inside its split; a target hour whose pm2.5 is NA is "
        "never scored nor trained on (ridge drops training windows with any NA target). "
        "wnd_dir is label-encoded (NE=0, NW=1, SE=2, cv=3). VAR's order p is chosen by AIC "
        "(p <= 24) on the training series.",
        "- gbm (not naive: a strong non-neural reference) is scikit-learn's "
        "HistGradientBoostingRegressor, one model per horizon step, learning the change from "
        "the last value from the flattened window plus each feature's change over the last 1 "
        "and 3 hours; the number of trees is chosen on the last 15% of the training windows "
        "(the validation and test splits are not used), then the model is refit on all of them.",
        "- Inputs are forward filled (`ffill`): every input value was observed at or before its "
        "hour, so persistence is the last *observed* value. With linear interpolation "
        "(`interpolate` rows) an NA run that reaches the end of a window is filled using the "
        "first value after it, which can be the target itself. For persistence the difference "
        "is pure look-ahead (0.12 µg/m³ of RMSE on B2a, 0.33 on B2b); ridge gains about 0.17. "
        "Use `ffill` for every system reported against these rows.",
        "- Agreement with the figures quoted on the issue tracker (persistence 22.14 / 79.23, "
        "ridge on the flattened 24x8 window 21.24 / 67.30, B1 persistence 26.56): persistence "
        "matches with `ffill` inputs (the tracker's persistence is the last observed value). The "
        "tracker's ridge figures match interpolated inputs *and* training on interpolated "
        f"targets: the row 'trained on filled NA targets' gives {tracker_a['rmse']:.2f} / "
        f"{tracker_b['rmse']:.2f}. Masking those targets in training, as the protocol requires, "
        "gives the plain `interpolate` ridge rows, and causal inputs give the `ffill` rows.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
