"""chronological_split: dates at their resolution, fractions, empty parts."""

from __future__ import annotations

import pandas as pd
import pytest

from lstmcast.data import chronological_split
from lstmcast.errors import ConfigError, DataError

HOURS = pd.date_range("2012-12-30 00:00", "2013-01-02 23:00", freq="h")  # 4 days, 96 rows


def test_a_date_means_the_whole_day_a_time_means_that_hour():
    split = chronological_split(HOURS, train_end="2012-12-31", val_end="2013-01-01")
    assert split.sizes() == {"train": 48, "val": 24, "test": 24}
    assert HOURS[split.train.stop - 1] == pd.Timestamp("2012-12-31 23:00")
    hourly = chronological_split(
        HOURS, train_end="2012-12-31 05:00", val_end=pd.Timestamp("2013-01-01")
    )
    assert hourly.train == slice(0, 30) and hourly.val == slice(30, 49)


def test_a_timestamp_end_is_inclusive_and_beijing_splits_at_the_protocols_hours():
    at = pd.Timestamp("2012-12-31 05:00")
    split = chronological_split(HOURS, train_end=at, val_end=pd.Timestamp("2013-01-01 23:00"))
    assert HOURS[split.train.stop - 1] == at and HOURS[split.val.start] == at + pd.Timedelta("1h")
    from lstmcast.data.periods import DEFAULT_SPLITS

    years = pd.date_range("2010-01-01", "2014-12-31 23:00", freq="h")
    train_end, val_end = DEFAULT_SPLITS["beijing-pm25"]  # PROTOCOL B2
    beijing = chronological_split(years, train_end=train_end, val_end=val_end)
    assert years[beijing.train.stop - 1] == pd.Timestamp("2012-12-31 23:00")
    assert years[beijing.val.start] == pd.Timestamp("2013-01-01 00:00")
    assert years[beijing.val.stop - 1] == pd.Timestamp("2013-12-31 23:00")
    assert years[beijing.test.start] == pd.Timestamp("2014-01-01 00:00")


def test_fractions_and_default():
    split = chronological_split(HOURS, fractions=(0.5, 0.25))
    assert (split.train, split.val, split.test) == (slice(0, 48), slice(48, 72), slice(72, 96))
    assert chronological_split(HOURS).sizes() == {"train": 67, "val": 14, "test": 15}


def test_an_empty_part_is_an_error_with_row_counts():
    with pytest.raises(
        DataError, match=r"the test split is empty \(rows: \{'train': 72, 'val': 24, 'test': 0\}"
    ):
        chronological_split(HOURS, train_end="2013-01-01", val_end="2013-01-02")


def test_bad_arguments():
    with pytest.raises(ConfigError, match="not both"):
        chronological_split(HOURS, train_end="2012-12-31", fractions=(0.5, 0.2))
    with pytest.raises(ConfigError, match="both train_end and val_end are needed"):
        chronological_split(HOURS, train_end="2012-12-31")
    with pytest.raises(ConfigError) as caught:
        chronological_split(HOURS, fractions=(0.9, 0.2))
    assert str(caught.value) == (
        "train_fraction (--train-fraction) and val_fraction (--val-fraction) must be above 0 "
        "(validation picks the epoch and stops training early), with a sum below 1 to leave "
        "rows for the test split; got train_fraction=0.9, val_fraction=0.2 (sum 1.1): pass e.g. "
        "the defaults 0.7 and 0.15"
    )
    # no validation split: the message said "at least 0", and 0 then failed as an empty split
    with pytest.raises(ConfigError, match=r"must be above 0 .*got train_fraction=0.7, val_fr"):
        chronological_split(HOURS, fractions=(0.7, 0))
    with pytest.raises(ConfigError, match=r"got train_fraction=0, val_fraction=0.15 \(sum"):
        chronological_split(HOURS, fractions=(0, 0.15))
    with pytest.raises(ConfigError, match="val_end '2012-12-30' comes before train_end"):
        chronological_split(HOURS, train_end="2012-12-31", val_end="2012-12-30")


def test_fractions_on_a_dataset_with_its_own_dates_are_refused_not_ignored():
    """beijing-pm25 splits by its dates: --train-fraction 0.3 trained on 2010-2012 all the
    same, and the manifest recorded 0.3. Refused for a new run; a stored config that holds it
    (a model or checkpoint saved before) still loads."""
    from lstmcast.commands.options import _check_ignored
    from lstmcast.config import ForecastConfig

    cfg = ForecastConfig(data="beijing-pm25", train_fraction=0.3)  # a stored config: fine
    with pytest.raises(ConfigError, match=r"^beijing-pm25 splits by its own dates \(training to "
                       r"2012-12-31 23:00, validation to 2013-12-31 23:00\), so train_fraction "
                       r"would be ignored: give --train-end and --val-end to move the split, or "
                       r"drop it$"):  # fmt: skip
        _check_ignored(cfg)
    _check_ignored(ForecastConfig(data="beijing-pm25"))  # its own dates, no fraction: fine
