"""The headline: the report's one-sentence verdict on "does the multivariate LSTM beat the
univariate one?", computed from the numbers of a ``compare`` result (RMSE gaps, persistence,
the best other baseline, and the Diebold–Mariano tests when the result has them)."""

from __future__ import annotations

import math

from lstmcast.evaluation.display import decimals
from lstmcast.evaluation.metrics import skill
from lstmcast.report.figures import PERSISTENCE
from lstmcast.report.results import distinct_names, inputs_text, scored_rows

_TIE = 5e-4  # relative RMSE difference under which two models are called a tie (0.05%)


def verdict(result: dict) -> str:
    """One sentence: which LSTM wins, by how much RMSE, and whether it beats persistence.

    Args:
        result: the dict of ``lstmcast compare``; reads ``results`` (rows with ``name``,
            ``kind``, ``inputs``, ``rmse``, optional ``n_inputs``), ``target``, ``unit``,
            ``split`` and ``period``.

    Example:
        >>> verdict({"target": "y", "results": [
        ...     {"name": "lstm", "kind": "lstm", "inputs": "univariate", "rmse": 2.0},
        ...     {"name": "persistence", "kind": "baseline", "rmse": 2.5}]})
        'The univariate LSTM (y alone) scores RMSE 2.00 on the test split and beats persistence (2.50) by 20.0%; no multivariate LSTM was run to compare against.'
    """  # noqa: E501
    result = distinct_names(result)
    rows = scored_rows(result["results"])
    unit = f" {result['unit']}" if result.get("unit") else ""
    where = _split_phrase(result)
    lstms = [row for row in rows if _is_lstm(row)]
    if not lstms:
        best = min(rows, key=lambda row: row["rmse"])
        return (
            f"No LSTM was scored on {where}; the best model is {best['name']} "
            f"with RMSE {_num(best['rmse'])}{unit}."
        )
    multi = _best([row for row in lstms if row.get("inputs") == "multivariate"])
    uni = _best([row for row in lstms if row.get("inputs") != "multivariate"])
    persistence = next((row for row in rows if row["name"] == PERSISTENCE), None)
    baselines = [row for row in rows if not _is_lstm(row) and row["name"] != PERSISTENCE]
    rival = _best(baselines)

    if multi is None or uni is None:
        only = multi or uni
        other = "univariate" if uni is None else "multivariate"
        text = f"The {_describe(only, result)} scores RMSE {_num(only['rmse'])}{unit} on {where}"
        if persistence is not None:
            text += " and " + _against_persistence(only["rmse"], persistence["rmse"])
            text += _chance(result, only, persistence)
        if rival is not None and rival["rmse"] < only["rmse"]:
            text += f", but the {rival['name']} baseline does better ({_num(rival['rmse'])})"
        return text + f"; no {other} LSTM was run to compare against."

    win, lose = sorted([multi, uni], key=lambda row: row["rmse"])
    gap = (lose["rmse"] - win["rmse"]) / lose["rmse"]
    pair = f"({_num(win['rmse'])} vs {_num(lose['rmse'])}{unit})"
    if gap < _TIE:
        text = (
            f"The {_describe(multi, result)} and the {_describe(uni, result)} tie at "
            f"RMSE {_num(multi['rmse'])}{unit} on {where}" + _tie_note(result, win, lose)
        )
    else:
        text = (
            f"The {_describe(win, result)} beats the {_describe(lose, result)} by "
            f"{100 * gap:.1f}% RMSE {pair} on {where}" + _chance(result, win, lose)
        )
    if persistence is not None:
        p = persistence["rmse"]
        beaten = [row for row in (win, lose) if row["rmse"] < p]
        if len(beaten) == 2:
            text += f"; both beat persistence ({_num(p)})" + _chance(result, win, persistence)
        elif len(beaten) == 1:
            text += f"; only the {_kind_name(win)} LSTM beats persistence ({_num(p)})" + _chance(
                result, win, persistence
            )
        else:
            text += f"; neither beats persistence ({_num(p)})"
    if rival is not None and rival["rmse"] < win["rmse"]:
        text += f", and the {rival['name']} baseline beats both ({_num(rival['rmse'])})"
    return text + "."


def _best(rows: list[dict]) -> dict | None:
    return min(rows, key=lambda row: row["rmse"]) if rows else None


def _is_lstm(row: dict) -> bool:
    return row.get("kind") == "lstm" or (row.get("kind") is None and row["name"].startswith("lstm"))


def _kind_name(row: dict) -> str:
    return "multivariate" if row.get("inputs") == "multivariate" else "univariate"


def _describe(row: dict, result: dict) -> str:
    """ "multivariate LSTM (8 inputs)" or "univariate LSTM (pollution alone)"."""
    return f"{_kind_name(row)} LSTM ({inputs_text(row, result)})"


def _chance(result: dict, a: dict, b: dict) -> str:
    """ ", a difference chance would rarely give (Diebold–Mariano p = 0.003)" for the test of
    rows ``a`` and ``b`` in ``result["tests"]`` (see compare), or "" when there is none."""
    p = _p_value(result, a, b)
    if p is None:
        return ""
    if p < 0.05:
        return f", a difference chance would rarely give (Diebold–Mariano {_p_text(p)})"
    return f", a difference chance could give (Diebold–Mariano {_p_text(p)})"


def _tie_note(result: dict, a: dict, b: dict) -> str:
    """What a tie's test says, without contradicting the tie: a consistent gap under 0.05% is
    still too small to matter."""
    p = _p_value(result, a, b)
    if p is None:
        return ""
    if p < 0.05:
        return (
            f" (a gap under {100 * _TIE:g}%, too small to matter even though Diebold–Mariano "
            f"finds it consistent, {_p_text(p)})"
        )
    return f" (a gap under {100 * _TIE:g}%, which chance could give: Diebold–Mariano {_p_text(p)})"


def _p_value(result: dict, a: dict, b: dict) -> float | None:
    """The p-value of the test of rows ``a`` and ``b`` in ``result["tests"]``, or None."""
    names = {a["name"], b["name"]}
    test = next((t for t in result.get("tests") or () if {t["a"], t["b"]} == names), None)
    if test is None or test["p_value"] is None or math.isnan(test["p_value"]):
        return None
    return test["p_value"]


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 1e-3 else f"p = {p:.2g}"


def _against_persistence(rmse: float, p: float) -> str:
    if rmse < p:
        return f"beats persistence ({_num(p)}) by {100 * skill(rmse, p):.1f}%"
    return f"does not beat persistence ({_num(p)})"


def _split_phrase(result: dict) -> str:
    """ "the 2014 test split", "the 2013–2014 test split" or "the test split"."""
    split = str(result.get("split") or "test")
    bounds = (result.get("period") or {}).get(split) or []
    years = [str(b)[:4] for b in bounds if str(b)[:4].isdigit()]
    if len(years) == 2:
        span = years[0] if years[0] == years[1] else f"{years[0]}–{years[1]}"
        return f"the {span} {split} split"
    return f"the {split} split"


def seed_note(result: dict) -> str | None:
    """One sentence on the seed, when ``compare`` trained the LSTMs from several (``seeds``):
    each LSTM's RMSE range and mean, and with how many seeds the better one wins; None else.

    Example:
        >>> seed_note({"seeds": {"seed": [0, 1, 2], "lstm-multivariate": [20.9, 21.1, 21.0],
        ...                      "lstm-univariate": [21.9, 21.0, 22.0]}})
        'Trained from seeds 0, 1, 2, the multivariate LSTM scores RMSE 20.90–21.10 (mean 21.00) and the univariate 21.00–22.00 (mean 21.63): the multivariate one wins with 2 of 3 seeds, so the seed alone can change which one wins.'
    """  # noqa: E501
    seeds = result.get("seeds")
    if not seeds or len(seeds.get("seed", [])) < 2:
        return None
    unit = f" {result['unit']}" if result.get("unit") else ""
    runs = {k: seeds[f"lstm-{k}"] for k in ("multivariate", "univariate") if f"lstm-{k}" in seeds}
    text = f"Trained from seeds {', '.join(str(v) for v in seeds['seed'])}, "

    def spread(values: list[float]) -> str:
        low, high, mean = min(values), max(values), sum(values) / len(values)
        return f"{_fine(low)}–{_fine(high)}{unit} (mean {_fine(mean)})"

    if len(runs) == 1:
        ((kind, values),) = runs.items()
        return text + f"the {kind} LSTM scores RMSE {spread(values)}."
    multi, uni = runs["multivariate"], runs["univariate"]
    pairs = list(zip(multi, uni, strict=True))  # the same seed for both
    n, wins = len(pairs), {"multivariate": sum(m < u for m, u in pairs),
                           "univariate": sum(u < m for m, u in pairs)}  # fmt: skip
    ties = n - sum(wins.values())
    text += f"the multivariate LSTM scores RMSE {spread(multi)} and the univariate {spread(uni)}: "
    tied = f", {ties} tie{'s' * (ties != 1)}" if ties else ""
    mean_multi, mean_uni = sum(multi) / len(multi), sum(uni) / len(uni)
    if mean_multi == mean_uni:
        return text + (
            f"their means are equal; the multivariate one wins with {wins['multivariate']} of "
            f"{n} seeds, the univariate with {wins['univariate']}{tied}."
        )
    better = "multivariate" if mean_multi < mean_uni else "univariate"
    other = "univariate" if better == "multivariate" else "multivariate"
    verdict_ = "so the seed does not change which one wins" if not wins[other] else (
        "so the seed alone can change which one wins")  # fmt: skip
    return text + f"the {better} one wins with {wins[better]} of {n} seeds{tied}, {verdict_}."


def _fine(x: float) -> str:
    """Four significant figures, at least two decimals: seeds differ in the third figure."""
    return f"{x:.{decimals([x], least=2)}f}"


def _num(x: float) -> str:
    """Three significant figures, at least one decimal: 20.1, 221.4, 5.30, 0.0123."""
    if x == 0 or not math.isfinite(x):
        return f"{x:.1f}"
    return f"{x:.{max(1, 2 - math.floor(math.log10(abs(x))))}f}"
