"""Data in, windows out: reading tables, the dataset registry, splits, windows and scalers."""

from lstmcast.data.registry import REGISTRY, DatasetInfo, dataset_info, fetch, load_dataset, locate
from lstmcast.data.scalers import MinMaxScaler, StandardScaler, make_scaler, scaler_from_dict
from lstmcast.data.split import Split, chronological_split
from lstmcast.data.table import Table, read_table
from lstmcast.data.windows import Windows, make_windows, split_windows

__all__ = [
    "REGISTRY",
    "DatasetInfo",
    "MinMaxScaler",
    "Split",
    "StandardScaler",
    "Table",
    "Windows",
    "chronological_split",
    "dataset_info",
    "fetch",
    "load_dataset",
    "locate",
    "make_scaler",
    "make_windows",
    "read_table",
    "scaler_from_dict",
    "split_windows",
]
