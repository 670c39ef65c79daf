"""The catalogue of bad inputs (docs/errors.md): each through the CLI (exit 2, one line naming the
problem and the fix, no traceback, nothing written) and through the Python API (the right
LstmcastError subclass, the same message)."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import make_synthetic_frame

import lstmcast
from lstmcast.cli import main
from lstmcast.errors import ConfigError, DataError, LstmcastError, ModelFileError
from lstmcast.forecaster import ForecastConfig, Forecaster

FAST = ["--time-col", "time", "--target", "load", "--units", "8", "--epochs", "1",
        "--lookback", "12", "--no-progress"]  # fmt: skip
API = dict(time_col="time", target=["load"], units=[8], epochs=1, lookback=12, progress=False)


def _frame(n: int = 200) -> pd.DataFrame:
    return make_synthetic_frame().iloc[:n].copy()


def _text(frame: pd.DataFrame, **kw) -> str:
    return frame.to_csv(index=False, **kw)


def _with(column: str, row: int, value) -> pd.DataFrame:
    frame = _frame()
    frame[column] = frame[column].astype(object)
    frame.loc[row, column] = value
    return frame


def _noted(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with a column of free text: a different note in every row."""
    return frame.assign(note=[f"note {i}" for i in range(len(frame))])


def _irregular() -> pd.DataFrame:
    frame = _frame()
    steps = np.random.default_rng(0).integers(1, 100, len(frame))
    frame["time"] = pd.Timestamp("2021-01-01") + pd.to_timedelta(np.cumsum(steps), unit="min")
    return frame


# (case, file text, extra CLI flags, error class, message) -- the table in docs/errors.md
TRAIN_CASES = [
    ("missing file", None, [], DataError,
     r"'{csv}' is neither a registered dataset .* nor an existing file; pass a dataset name or "
     r"the path of a CSV/Parquet table"),
    ("empty file", "", [], DataError,
     r"the file is empty; pass a CSV with a header row and data rows"),
    ("header only", "time,load,temp,wind\n", [], DataError,
     r"the table has a header but no rows; pass a file with data rows"),
    ("space-separated", _text(_frame(), sep=" "), [], DataError,
     r"reads as a single column: use a comma-separated file \(';', tab and '\|' are recognised"),
    ("text in a numeric column", _text(_with("load", 5, "abc")), [], DataError,
     r"numeric column 'load' holds the text 'abc' at data row 6; fix the value or mark it "
     r"missing \(empty or NA\)"),
    ("decimal commas", _text(_frame(), sep=";", decimal=","), [], DataError,
     r"column 'load' writes numbers with a decimal comma \('9,88\d*' at data row 1\); "
     r"re-export the table with '.' as the decimal mark"),
    ("decimal commas, quoted", _text(_frame(), decimal=","), [], DataError,
     r"column 'load' writes numbers with a decimal comma \('9,88\d*' at data row 1\)"),
    ("misspelt target", _text(_frame()), ["--target", "lod"], DataError,
     r"target column 'lod' not found in the table: did you mean 'load'\?"),
    ("all-NA target", _text(_frame().assign(load=np.nan)), [], DataError,
     r"target column 'load' holds no value at all: choose another --target"),
    ("an all-NA target among several (--target all)", _text(_frame().assign(temp=np.nan)),
     ["--target", "all"], DataError,
     r"target column 'temp' holds no value at all: leave it out: --target load$"),
    ("entirely missing feature", _text(_frame().assign(temp=np.nan)), [], DataError,
     r"feature column 'temp' holds no value at all: leave it out: --features load wind"),
    ("a feature with no value in the training split",
     _text(_frame().assign(temp=lambda f: f["temp"].where(f.index >= 150))), [], DataError,
     r"feature column 'temp' holds no value in the training split: leave it out: --features "
     r"load wind, or move train_end later"),
    ("a timestamp that is not one", _text(_with("time", 0, "yesterday")), [], DataError,
     r"time column 'time' holds 'yesterday' at data row 1, which is not a timestamp; fix the "
     r"value or pass the right --time-col"),
    ("inf value", _text(_with("temp", 7, np.inf)), [], DataError,
     r"column 'temp' holds inf at data row 8; replace infinite values with numbers, or leave "
     r"them empty \(missing\)"),
    ("duplicate timestamps", _text(pd.concat([_frame(), _frame().iloc[[3]]])), [], DataError,
     r"1 duplicate timestamps \(first: 2021-03-01 03:00:00\); remove or aggregate the repeated"),
    ("irregular timestamps", _text(_irregular()), [], DataError,
     r"the timestamps are irregular \(steps from 0 days 00:01:00 to 0 days 01:39:00, no common "
     r"frequency\): resample the table to a regular step first"),
    ("too short for lookback + horizon", _text(_frame(15)), [], DataError,
     r"has 15 rows, too few for lookback 12 \+ horizon 1: the training split gets 10 and needs "
     r"13; pass at least 18 rows, shorten --lookback/--horizon, or give that split a larger "
     r"share \(--train-fraction/--val-fraction\)"),
    ("a split left empty", _text(_frame()),
     ["--train-end", "2021-03-05", "--val-end", "2021-03-09 07:00"], DataError,
     r"the test split is empty \(rows: .*\); move train_end/val_end or change fractions"),
    ("a split too short for a window", _text(_frame()),
     ["--train-end", "2021-03-01 08:00", "--val-end", "2021-03-05"], DataError,
     r"the split leaves 9 training rows and 111 validation rows; lookback 12 \+ horizon 1 needs at "
     r"least 13 and 1"),
    ("split dates and fractions", _text(_frame()),
     ["--train-end", "2021-03-05", "--val-end", "2021-03-07", "--train-fraction", "0.5"],
     ConfigError,
     r"the split is given both by dates \(train_end/val_end\) and by train_fraction, which "
     r"would be ignored: give dates or fractions, not both"),
    ("half a split", _text(_frame()), ["--train-end", "2021-03-05"], ConfigError,
     r"give both train_end and val_end \(or neither"),
    ("zero units", _text(_frame()), ["--units", "0"], ConfigError,
     r"units must be positive integers, got \[0\]: e.g. --units 64 32"),
    ("negative dropout", _text(_frame()), ["--dropout", "-0.1"], ConfigError,
     r"dropout must be in \[0, 1\), got -0.1: e.g. --dropout 0.2"),
    ("horizon 0", _text(_frame()), ["--horizon", "0"], ConfigError,
     r"horizon must be a positive integer, got 0: e.g. --horizon \d+ \(the default\)"),
    ("lookback 0", _text(_frame()), ["--lookback", "0"], ConfigError,
     r"lookback must be a positive integer, got 0: e.g. --lookback \d+ \(the default\)"),
    ("learning rate 0", _text(_frame()), ["--learning-rate", "0"], ConfigError,
     r"learning_rate must be positive, got 0.0: try 0.001"),
    ("unknown loss", _text(_frame()), ["--loss", "rmse"], ConfigError,
     r"loss must be one of mse, mae, huber, got 'rmse'"),
    ("infinite learning rate", _text(_frame()), ["--learning-rate", "inf"], ConfigError,
     r"learning_rate must be a finite number, got inf: e.g. --learning-rate 0.001"),
    ("fill none", _text(_frame()), ["--fill", "none"], ConfigError,
     r"fill must be ffill, interpolate or refuse, got 'none': ffill \(the default\) carries the "
     r"last observed value forward"),
    ("free text among every column", _text(_noted(_frame())),
     [], DataError,
     r"text column 'note' has 200 distinct values \(more than 32, so not categorical\); no "
     r"network can read it: name the inputs with --features \(usable: load temp wind\)"),
    ("free text as a feature", _text(_noted(_frame())),
     ["--features", "note"], DataError,
     r"text column 'note' has 200 distinct values .*; no network can read it: leave it out of "
     r"--features \(usable: load temp wind\)"),
    ("free text as the target", _text(_noted(_frame())),
     ["--target", "note", "--features", "load"], DataError,
     r"text column 'note' has 200 distinct values .*; no network can forecast it: pick another "
     r"--target"),
    ("unknown categorical", _text(_frame()), ["--categorical", "hash"], ConfigError,
     r"categorical must be one of label, onehot, got 'hash': e.g. --categorical label \(the "
     r"default\)"),
    ("a setting beside the preset that sets it", _text(_frame()),
     ["--preset", "simple", "--units", "8"], ConfigError,
     r"preset 'simple' sets the network \(--units 50 --activation relu --dropout 0.0 "
     r"--no-bidirectional\), so --units cannot be given beside it: drop --preset and give those "
     r"flags yourself, or drop --units"),
    ("negative weight decay", _text(_frame()), ["--weight-decay", "-1"], ConfigError,
     r"weight_decay must be 0 or positive, got -1.0: e.g. 0.0001 \(0 turns the penalty off\)"),
]  # fmt: skip


def _api_config(csv: Path, flags: list[str]) -> dict:
    """The ForecastConfig keywords of the extra CLI flags of a case."""
    settings = dict(API, data=str(csv))
    it = iter(flags)
    for flag, value in zip(it, it, strict=True):
        name = flag[2:].replace("-", "_")
        if name in ("units", "target"):
            settings[name] = [int(value) if name == "units" else value]
        elif name in ("horizon", "lookback"):
            settings[name] = int(value)
        elif name in ("dropout", "learning_rate", "weight_decay", "train_fraction"):
            settings[name] = float(value)
        else:
            settings[name] = value
    return settings


@pytest.fixture(params=TRAIN_CASES, ids=[c[0] for c in TRAIN_CASES])
def train_case(request, tmp_path):
    name, text, flags, error, message = request.param
    csv = tmp_path / "data.csv"
    if text is not None:
        csv.write_text(text)
    return csv, flags, error, message.replace("{csv}", re.escape(str(csv)))


def test_train_cli(train_case, tmp_path, capsys):
    csv, flags, _, message = train_case
    out = tmp_path / "model"
    assert main(["train", "--data", str(csv), "--out", str(out), *FAST, *flags]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("lstmcast train: error: ") and "Traceback" not in err[0]
    assert re.search(message, err[0]), err[0]
    assert not out.exists()  # nothing written, not even the checkpoint folder


def test_train_api(train_case):
    csv, flags, error, message = train_case
    with pytest.raises(error, match=message):
        Forecaster(ForecastConfig(**_api_config(csv, flags))).fit()


def test_out_that_is_a_file(tmp_path, synthetic_csv, capsys):
    (tmp_path / "model").write_text("not a folder")
    argv = ["train", "--data", str(synthetic_csv), "--out", str(tmp_path / "model"), *FAST]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"lstmcast train: error: {tmp_path / 'model'} exists and is not a directory: "
                   "choose another --out"]  # fmt: skip
    assert (tmp_path / "model").read_text() == "not a folder"


# ---------------------------------------------------------------- accepted with a decision
@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_other_separators_are_recognised(tmp_path, sep):
    from lstmcast.data import read_table

    (tmp_path / "comma.csv").write_text(_text(_frame()))
    (tmp_path / "other.csv").write_text(_text(_frame(), sep=sep))
    a = read_table(tmp_path / "comma.csv", time_col="time")
    b = read_table(tmp_path / "other.csv", time_col="time")
    pd.testing.assert_frame_equal(a.frame, b.frame)


def test_unsorted_rows_are_sorted_silently(tmp_path):
    (tmp_path / "sorted.csv").write_text(_text(_frame()))
    (tmp_path / "shuffled.csv").write_text(_text(_frame().sample(frac=1, random_state=0)))
    a = Forecaster(ForecastConfig(data=str(tmp_path / "sorted.csv"), **API)).fit()
    b = Forecaster(ForecastConfig(data=str(tmp_path / "shuffled.csv"), **API)).fit()
    pd.testing.assert_frame_equal(a.predict(), b.predict(), check_exact=True)


def test_a_constant_feature_is_trained_on_with_one_warning_line(tmp_path, capsys):
    csv = tmp_path / "const.csv"
    csv.write_text(_text(_frame().assign(temp=1.5)))
    with pytest.warns(UserWarning, match=r"feature column 'temp' is constant \(1.5\) in the "
                      r"training split: it tells the model nothing; leave it out: "
                      r"--features load wind"):  # fmt: skip
        Forecaster(ForecastConfig(data=str(csv), **API)).fit()
    assert main(["train", "--data", str(csv), "--out", str(tmp_path / "m"), *FAST]) == 0
    warnings = [x for x in capsys.readouterr().err.splitlines() if "warning" in x]
    assert warnings == [
        "lstmcast train: warning: feature column 'temp' is constant (1.5) in the training split: "
        "it tells the model nothing; leave it out: --features load wind"
    ]


# ---------------------------------------------------------------- predicting with new data
@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad_predict")
    csv = folder / "train.csv"
    make_synthetic_frame().to_csv(csv, index=False)
    assert main(["train", "--data", str(csv), "--out", str(folder / "model"), *FAST]) == 0
    return folder / "model"


def _recent(n: int = 40) -> pd.DataFrame:
    return make_synthetic_frame().iloc[-n:].reset_index(drop=True)


PREDICT_CASES = [
    ("missing column", _recent().drop(columns="temp"), DataError,
     r"lacks the column\(s\) \['temp'\] the model was trained on; it needs \['load', 'temp', "
     r"'wind'\] \(extra columns are ignored, their order does not matter\)"),
    ("another frequency",
     _recent(80).set_index("time").resample("2h").agg({"load": "mean", "temp": "mean",
                                                         "wind": "first"}).reset_index(),
     DataError,
     r"is at frequency '2h', but the model was trained on 'h' steps: resample the table to 'h'"),
    ("irregular timestamps", _irregular().iloc[:40], DataError,
     r"the timestamps are irregular, but the model was trained on 'h' steps: resample the "
     r"table to 'h' first"),
    ("fewer rows than lookback", _recent(5), DataError,
     r"predict needs at least lookback = 12 rows of history, got 5: pass a longer table"),
    ("an input without values", _recent().assign(temp=np.nan), DataError,
     r"new.csv: input column\(s\) \['temp'\] have missing values in the last 12 rows that "
     r"fill='ffill' cannot fill, so no forecast can be made: pass a history in which every "
     r"input column is observed"),
    ("the target without values", _recent().assign(load=np.nan), DataError,
     r"input column\(s\) \['load'\] have missing values in the last 12 rows"),
    ("free text where numbers were", _recent().assign(temp=[f"t{i}" for i in range(40)]),
     DataError,
     r"text column 'temp' has 40 distinct values \(more than 32, so not categorical\), but the "
     r"model was trained on it as numbers: pass rows in which it holds numbers"),
    ("few text values where numbers were", _recent().assign(temp=["hi", "lo"] * 20), DataError,
     r"new.csv: column 'temp' holds the text 'hi' at data row 1, but the model was trained on "
     r"it as numbers: pass rows in which it holds numbers"),
    ("missing marks where numbers were", _recent().assign(temp=["missing"] * 40), DataError,
     r"new.csv: column 'temp' holds the text 'missing' at data row 1, but the model was trained "
     r"on it as numbers"),
    ("unseen category", _recent().assign(wind="SW"), DataError,
     r"column 'wind' holds 'SW' at data row 1, not one of the categories it was fitted on"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "frame", "error", "message"), PREDICT_CASES,
                         ids=[c[0] for c in PREDICT_CASES])  # fmt: skip
def test_predict_refuses(model, tmp_path, capsys, case, frame, error, message):
    csv = tmp_path / "new.csv"
    frame.to_csv(csv, index=False)
    with pytest.raises(error, match=message):
        lstmcast.load(model).predict(str(csv))
    out = tmp_path / "forecast.csv"
    assert main(["predict", str(model), "--data", str(csv), "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lstmcast predict: error: ")
    assert re.search(message, err[0]), err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.csv"]  # no forecast, no temp


def test_a_categorical_column_where_numbers_were_is_refused_not_coded(model):
    """A text column with few values was label-coded (0, 1) and fed to the network as the
    measurement the model was trained on: predict and evaluate gave numbers, exit 0."""
    frame = make_synthetic_frame()
    frame["temp"] = pd.Categorical(np.where(frame["temp"] > frame["temp"].median(), "hi", "lo"))
    fc = lstmcast.load(model)
    message = r"DataFrame: column 'temp' holds the text '(hi|lo)' at data row 1, but the model was "
    with pytest.raises(DataError, match=message):
        fc.predict(frame)
    with pytest.raises(DataError, match=message):
        fc.evaluate(frame)


def test_free_text_left_out_by_features_does_not_block(tmp_path):
    """A column of notes is read past, not refused, when --features leaves it out; the model is
    the one trained without the column at all."""
    frame = _frame()
    plain, noted = tmp_path / "plain.csv", tmp_path / "noted.csv"
    frame.to_csv(plain, index=False)
    _noted(frame).to_csv(noted, index=False)
    settings = dict(API, features=["load", "temp", "wind"])
    a = Forecaster(ForecastConfig(data=str(plain), **settings)).fit()
    b = Forecaster(ForecastConfig(data=str(noted), **settings)).fit()
    assert b.inputs_ == ["load", "temp", "wind"]
    np.testing.assert_array_equal(a.predict(str(plain)), b.predict(str(noted)))


def test_read_table_refuses_free_text_unless_asked_to_skip(tmp_path):
    csv = tmp_path / "noted.csv"
    _noted(_frame()).to_csv(csv, index=False)
    refused = r"'note' has 200 distinct values \(more than 32, so not categorical\); drop it with"
    with pytest.raises(DataError, match=refused):
        lstmcast.data.read_table(csv)
    table = lstmcast.data.read_table(csv, free_text="skip")
    assert table.columns == ["load", "temp", "wind"]
    assert list(table.skipped) == ["note"]
    with pytest.raises(DataError, match="free_text must be 'refuse' or 'skip', got 'drop'"):
        lstmcast.data.read_table(csv, free_text="drop")


def test_extra_and_reordered_columns_are_fine(model, tmp_path):
    fc = lstmcast.load(model)
    recent = _recent()
    expected = fc.predict(recent)
    shuffled = recent[["wind", "temp", "time", "load"]].assign(humidity=1.0, note="x")
    pd.testing.assert_frame_equal(fc.predict(shuffled), expected, check_exact=True)


def test_predict_output_into_a_missing_folder_is_one_line(model, tmp_path, capsys):
    csv = tmp_path / "new.csv"
    _recent().to_csv(csv, index=False)
    out = tmp_path / "no" / "such" / "forecast.csv"
    assert main(["predict", str(model), "--data", str(csv), "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lstmcast predict: error: No such file or directory")


def test_predict_output_that_is_a_folder_is_one_line(model, tmp_path, capsys):
    csv, out = tmp_path / "new.csv", tmp_path / "out"
    _recent().to_csv(csv, index=False)
    out.mkdir()
    assert main(["predict", str(model), "--data", str(csv), "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"lstmcast predict: error: Is a directory: {out}"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.csv", "out"]  # no hidden file
    assert not list(out.iterdir())


def test_written_files_get_the_umask_permissions(model, tmp_path):
    csv = tmp_path / "new.csv"
    _recent().to_csv(csv, index=False)
    old = os.umask(0o022)
    try:
        argv = ["predict", str(model), "--data", str(csv), "--output", str(tmp_path / "f.csv")]
        assert main(argv) == 0
        assert main(["evaluate", str(model), "--json", str(tmp_path / "s.json")]) == 0
    finally:
        os.umask(old)
    for name in ("f.csv", "s.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name  # not mkstemp's 0600


def test_a_baseline_that_cannot_be_fitted_is_left_out_with_a_warning(tmp_path):
    csv = tmp_path / "huge.csv"
    make_synthetic_frame().assign(temp=lambda f: f["temp"] * 1e300).to_csv(csv, index=False)
    fc = Forecaster(ForecastConfig(**dict(API, data=str(csv)))).fit()
    with pytest.warns(UserWarning, match=r"the var baseline could not be fitted \(SVD did not "
                      r"converge.*\) and is left out") as caught:  # fmt: skip
        result = fc.evaluate(baselines=("persistence", "var"))
    assert [r["name"] for r in result["results"]] == ["lstm", "persistence"]
    assert [w.category for w in caught] == [UserWarning]  # no numpy "invalid value" line too


def test_only_numerical_failures_of_a_baseline_are_blamed_on_the_values(tmp_path, monkeypatch):
    """Ridge's overflowing Gram matrix (scipy's "array must not contain infs or NaNs") is the
    values' fault; a ValueError that is a bug (a shape that does not fit) was reported as
    "the table's values may be too large or too alike" too, and is now raised."""
    from lstmcast.baselines import RidgeBaseline

    csv = tmp_path / "huge.csv"
    make_synthetic_frame().assign(temp=lambda f: f["temp"] * 1e300).to_csv(csv, index=False)
    fc = Forecaster(ForecastConfig(**dict(API, data=str(csv)))).fit()
    with pytest.warns(UserWarning, match=r"the ridge baseline could not be fitted \(array must "
                      r"not contain infs or NaNs\) and is left out: the table's values may be "
                      r"too large"):  # fmt: skip
        result = fc.evaluate(baselines=("persistence", "ridge"))
    assert [r["name"] for r in result["results"]] == ["lstm", "persistence"]

    def bug(self, X, Y, observed, status):
        raise ValueError("operands could not be broadcast together with shapes (3,) (4,)")

    monkeypatch.setattr(RidgeBaseline, "_fit", bug)
    fc = Forecaster(ForecastConfig(**API)).fit(make_synthetic_frame())
    with pytest.raises(ValueError, match="operands could not be broadcast"):
        fc.evaluate(baselines=("persistence", "ridge"))


def test_a_constant_input_leaves_var_out_with_a_warning_not_a_traceback(tmp_path, capsys):
    """A constant input column (which train only warns about) crashed evaluate and compare
    inside statsmodels' VAR ("x contains one or more constant columns")."""
    csv = tmp_path / "const.csv"
    _frame().assign(temp=1.5).to_csv(csv, index=False)
    model = tmp_path / "model"
    assert main(["train", "--data", str(csv), "--out", str(model), *FAST]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(model), "--baselines", "persistence,ridge,var"]) == 0
    out, err = capsys.readouterr()
    assert [line for line in err.splitlines() if "var" in line] == [
        "lstmcast evaluate: warning: the var baseline could not be fitted (x contains one or "
        "more constant columns. Column(s) 1 are constant. Adding a constant with trend='c' is not "
        "allowed.) and is left out: the table's values may be too large or too alike (a constant "
        "column) for it"
    ]
    assert "ridge" in out and "\nvar " not in out


def test_a_baseline_refusing_the_data_says_its_own_reason_alone(tmp_path):
    """A target observed every other hour leaves ridge no window with both of its 2 steps
    observed: its warning added "the table's values may be too large or too alike (a
    constant column)", which had nothing to do with it."""
    frame = make_synthetic_frame()
    frame.loc[frame.index % 2 == 1, "load"] = np.nan
    fc = Forecaster(ForecastConfig(**dict(API, horizon=2))).fit(frame)
    with pytest.warns(UserWarning) as caught:
        result = fc.evaluate(baselines=("persistence", "ridge"))
    assert [str(w.message) for w in caught if "ridge" in str(w.message)] == [
        "the ridge baseline is left out: RidgeBaseline needs >= 2 windows with every target "
        "observed, got 0"
    ]
    assert [r["name"] for r in result["results"]] == ["lstm", "persistence"]


def test_loading_a_missing_model_is_one_line(tmp_path, capsys):
    with pytest.raises(ModelFileError, match="no model at .*: train one with `lstmcast train"):
        lstmcast.load(tmp_path / "none")
    assert main(["predict", str(tmp_path / "none"), "--data", "x.csv"]) == 2
    assert capsys.readouterr().err.startswith("lstmcast predict: error: no model at ")


def test_every_catalogue_error_is_a_lstmcast_error():
    for _, _, _, error, _ in TRAIN_CASES:
        assert issubclass(error, LstmcastError)


def test_features_may_name_a_one_hot_column_by_its_own_name(tmp_path):
    """--features wind with --categorical onehot reads wind's 0/1 columns: the same model as
    naming them one by one (before, 'wind' was "not found", with wind_W suggested)."""
    csv = tmp_path / "data.csv"
    _frame().to_csv(csv, index=False)
    settings = dict(API, data=str(csv), categorical="onehot")
    spelled = ["load", "wind_E", "wind_N", "wind_W"]
    by_name = Forecaster(ForecastConfig(features=["load", "wind"], **settings)).fit()
    one_by_one = Forecaster(ForecastConfig(features=spelled, **settings)).fit()
    assert by_name.inputs_ == one_by_one.inputs_ == spelled
    np.testing.assert_array_equal(by_name.predict(str(csv)), one_by_one.predict(str(csv)))
    both = Forecaster(ForecastConfig(features=["load", "wind_W", "wind"], **settings)).fit()
    assert both.inputs_ == ["load", "wind_W", "wind_E", "wind_N"]  # each column once


def test_a_preset_never_overrules_a_setting_silently(tmp_path, capsys):
    """--preset simple --units 8 trained LSTM(50) with relu and said nothing."""
    csv = tmp_path / "data.csv"
    _frame().to_csv(csv, index=False)
    stacked = ForecastConfig(preset="stacked")
    assert (stacked.units, stacked.activation, stacked.dropout) == ([64, 32], "relu", 0.2)
    with pytest.raises(ConfigError, match="preset 'stacked' sets the network .* so --dropout"):
        ForecastConfig(preset="stacked", dropout=0.5)
    with pytest.raises(ConfigError, match="so --units cannot be given beside it"):
        stacked.replace(units=[8])
    assert stacked.replace(units=[8], preset=None).units == [8]  # leaving the preset is fine
    assert ForecastConfig(preset="stacked", units=[64, 32]).units == [64, 32]  # agreeing is fine
    # on the command line a flag equal to the default (tanh) clashes too
    out = tmp_path / "model"
    argv = ["train", "--data", str(csv), "--out", str(out), "--time-col", "time", "--target",
            "load", "--epochs", "1", "--preset", "simple", "--activation", "tanh"]  # fmt: skip
    assert main(argv) == 2
    assert "so --activation cannot be given beside it" in capsys.readouterr().err
    assert not out.exists()


def test_a_target_that_is_no_input_is_needed_to_score_not_to_forecast(tmp_path, capsys):
    """Forecasting load from temp and wind asked for a load column in the new rows, which it
    never reads (an all-NaN one was accepted)."""
    csv = tmp_path / "train.csv"
    make_synthetic_frame().to_csv(csv, index=False)
    model = tmp_path / "model"
    assert main(["train", "--data", str(csv), "--out", str(model), *FAST,
                 "--features", "temp", "wind"]) == 0  # fmt: skip
    fc = lstmcast.load(model)
    recent = _recent()
    without = tmp_path / "new.csv"
    recent.drop(columns="load").to_csv(without, index=False)
    blank = tmp_path / "blank.csv"
    recent.assign(load=np.nan).to_csv(blank, index=False)
    forecast = fc.predict(str(without))
    pd.testing.assert_frame_equal(forecast, fc.predict(str(blank)))
    assert forecast.columns.tolist() == ["load"]
    with pytest.raises(DataError, match=r"new.csv lacks the target column\(s\) \['load'\] to "
                       r"score the forecasts against; evaluating needs \['temp', 'wind', "
                       r"'load'\] \(predict needs only the inputs\)"):  # fmt: skip
        fc.evaluate(str(without))
    capsys.readouterr()
    assert main(["evaluate", str(model), "--data", str(without)]) == 2
    assert "lacks the target column(s) ['load']" in capsys.readouterr().err


def test_empty_rows_at_the_end_are_left_out_and_filled_inputs_are_named(model, tmp_path):
    """A table that already lists the hours to forecast, empty, was forecast from three
    invented hours (the last values carried forward) and stamped after them, without a word."""
    fc = lstmcast.load(model)
    recent = _recent()
    plain, listed = tmp_path / "plain.csv", tmp_path / "listed.csv"
    recent.to_csv(plain, index=False)
    future = pd.DataFrame({"time": recent["time"].iloc[-1] + pd.to_timedelta([1, 2, 3], "h")})
    pd.concat([recent, future]).to_csv(listed, index=False)
    with pytest.warns(UserWarning, match=r"listed.csv: the last 3 rows \(from .*\) hold no "
                      r"values, so predict starts after the last row that does"):  # fmt: skip
        forecast = fc.predict(str(listed))
    pd.testing.assert_frame_equal(forecast, fc.predict(str(plain)))  # the same hours, numbers
    stale = tmp_path / "stale.csv"
    last_two_missing = recent["load"].where(recent.index < len(recent) - 2)
    recent.assign(load=last_two_missing).to_csv(stale, index=False)
    with pytest.warns(UserWarning, match=r"stale.csv: input values missing at the end of the "
                      r"history, rows counted: load \(last 2\); fill='ffill' filled them, so "
                      r"predict rests on filled values"):  # fmt: skip
        fc.predict(str(stale))


def test_evaluate_on_rows_with_an_empty_input_names_the_column(model, tmp_path):
    """It said "y_pred holds 129 NaN/inf values where targets are scored"."""
    csv = tmp_path / "new.csv"
    make_synthetic_frame().assign(temp=np.nan).to_csv(csv, index=False)
    with pytest.raises(DataError, match=r"new.csv: input column\(s\) \['temp'\] have missing "
                       r"values in the test windows that fill='ffill' cannot fill, so they "
                       r"cannot be scored: pass a table in which every input column is "
                       r"observed"):  # fmt: skip
        lstmcast.load(model).evaluate(str(csv))


def test_a_validation_split_without_an_observed_target_is_refused_before_training(tmp_path, capsys):
    """Early stopping watched a loss of 0 (nothing observed to score), kept epoch 1, saved the
    model, then `train` failed on scoring it: exit 2 with a model written anyway."""
    frame = make_synthetic_frame()  # 600 rows: validation is rows 420 to 509
    frame.loc[410:515, "load"] = np.nan
    csv = tmp_path / "valnan.csv"
    frame.to_csv(csv, index=False)
    out = tmp_path / "model"
    assert main(["train", "--data", str(csv), "--out", str(out), *FAST]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (
        "lstmcast train: error: the validation split (2021-03-18 12:00:00 to 2021-03-22 "
        "05:00:00) holds no observed value of load, so it cannot tell good epochs from bad: "
        "move the split (--train-end/--val-end, or --val-fraction) to rows where it is observed"
    )
    assert not out.exists()
