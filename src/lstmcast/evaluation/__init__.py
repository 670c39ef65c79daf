"""Scoring forecasts: metrics over the observed targets only, per step and overall."""

from lstmcast.evaluation.metrics import (
    diebold_mariano,
    mae,
    mase,
    naive_scale,
    per_step,
    rmse,
    score,
    skill,
    smape,
)

__all__ = [
    "diebold_mariano",
    "mae",
    "mase",
    "naive_scale",
    "per_step",
    "rmse",
    "score",
    "skill",
    "smape",
]
