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

    With several targets (``target`` a list) the pooled RMSE mixes units, so the sentence
    counts the targets each LSTM wins instead, from the rows' ``per_target`` scores. When
    compare left the Diebold–Mariano tests out for a short split (``tests_left_out``), the
    sentence says so.

    Args:
        result: the dict of ``lstmcast compare``; reads ``results`` (rows with ``name``,
            ``kind``, ``inputs``, ``rmse``, optional ``n_inputs`` and ``per_target``),
            ``target``, ``unit``, ``split``, ``period``, ``tests`` and ``tests_left_out``.

    Example:
        >>> verdict({"target": "y", "results": [
        ...     {"name": "lstm", "kind": "lstm", "inputs": "univariate", "rmse": 2.0},
        ...     {"name": "persistence", "kind": "baseline", "rmse": 2.5}]})
        'The univariate LSTM (y alone) scores RMSE 2.00 on the test split and beats persistence (2.50) by 20.0%; no multivariate LSTM was run to compare against.'
    """  # noqa: E501
    result = distinct_names(result)
    rows = scored_rows(result["results"])
    targets = _targets(result, rows)
    if targets:  # the pooled RMSE mixes the targets' units: each target on its own
        return _per_target_verdict(result, rows, targets)
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
        text += f"; no {other} LSTM was run to compare against"
        return text + (_untested(result, "the gap") if persistence is not None else "") + "."

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
    return text + _untested(result, "these gaps" if persistence is not None else "the gap") + "."


def _per_target_verdict(result: dict, rows: list[dict], targets: list[str]) -> str:
    """The verdict of a result with several targets, counted target by target: the pooled
    RMSE (and a test on pooled squared errors) would let the target of the largest unit decide.
    """
    where, n = _split_phrase(result), len(targets)
    lstms = [row for row in rows if _is_lstm(row) and _rmses(row, n)]
    if not lstms:
        return f"No LSTM was scored on {where}."
    # among LSTMs of one kind, the one better than the other on most targets
    multi = _most_wins([row for row in lstms if row.get("inputs") == "multivariate"], n)
    uni = _most_wins([row for row in lstms if row.get("inputs") != "multivariate"], n)
    persistence = next((row for row in rows if row["name"] == PERSISTENCE), None)
    p = _rmses(persistence, n) if persistence is not None else None
    others = [_rmses(row, n) for row in rows if not _is_lstm(row) and row["name"] != PERSISTENCE]
    others = [rmses for rmses in others if rmses]
    text = f"Over {n} targets on {where}, the "
    if multi is None or uni is None:
        only = multi or uni
        own = _rmses(only, n)
        text += _describe(only, result)
        if p is not None:
            text += " beats persistence on " + _which(
                targets, [a < b for a, b in zip(own, p, strict=True)]
            )
        if others:
            better = [any(o[k] < own[k] for o in others) for k in range(n)]
            text += f", another baseline does better on {_which(targets, better)}"
        other = "univariate" if uni is None else "multivariate"
        text += f"; no {other} LSTM was run to compare against"
        return text + (_untested(result, "the gaps") if p is not None else "") + "."
    m, u = _rmses(multi, n), _rmses(uni, n)
    tie = [abs(a - b) < _TIE * max(a, b) for a, b in zip(m, u, strict=True)]
    wins = [a < b and not t for a, b, t in zip(m, u, tie, strict=True)]
    losses = [b < a and not t for a, b, t in zip(m, u, tie, strict=True)]
    text += (
        f"{_describe(multi, result)} beats the {_describe(uni, result)} on "
        f"{_which(targets, wins)} and loses on {_which(targets, losses)}"
    )
    if any(tie):
        text += f", ties on {_which(targets, tie)}"
    tested = [_p_value(result, multi, uni, target) for target in targets]
    if any(v is not None for v in tested):
        rare = [v is not None and v < 0.05 for v in tested]
        text += (
            f", a gap chance would rarely give (Diebold–Mariano p < 0.05) on "
            f"{_which(targets, rare, of=sum(v is not None for v in tested))}"
        )
    if p is not None:
        text += (
            f"; the multivariate LSTM beats persistence on "
            f"{_which(targets, [a < b for a, b in zip(m, p, strict=True)])} and the univariate on "
            f"{_which(targets, [a < b for a, b in zip(u, p, strict=True)])}"
        )
    if others:
        both = [any(o[k] < min(m[k], u[k]) for o in others) for k in range(n)]
        text += f", and another baseline beats both on {_which(targets, both)}"
    return text + _untested(result, "these gaps") + "."


def _targets(result: dict, rows: list[dict]) -> list[str] | None:
    """The targets of a result that has several (``target`` a list, as compare and evaluate
    give it, and LSTM rows with each one's scores in ``per_target``); else None."""
    targets = result.get("target")
    if not isinstance(targets, list) or len(targets) < 2:
        return None
    per = [row.get("per_target") or [] for row in rows if _is_lstm(row)]
    if not any(len(entries) == len(targets) for entries in per):
        return None
    return [str(t) for t in targets]


def _rmses(row: dict, n: int) -> list[float] | None:
    """The row's RMSE of each of the ``n`` targets, or None unless it has all of them finite."""
    rmses = [entry.get("rmse") for entry in row.get("per_target") or []]
    good = all(isinstance(v, int | float) and math.isfinite(v) for v in rmses)
    return rmses if len(rmses) == n and good else None


def _most_wins(rows: list[dict], n: int) -> dict | None:
    """The row better than the others of ``rows`` on the most targets (compare gives one)."""

    def wins(row: dict) -> int:
        return sum(
            a < b for other in rows for a, b in zip(_rmses(row, n), _rmses(other, n), strict=True)
        )

    return max(rows, key=wins) if rows else None


_NAMED = 5  # the most targets a count names; more are only counted


def _which(targets: list[str], flags: list[bool], of: int | None = None) -> str:
    """ "2 (volume, cpi)", "none", "all 5", or "3 of 4 (…)" when ``of`` (tested) is given."""
    chosen = [t for t, flag in zip(targets, flags, strict=True) if flag]
    total = len(targets) if of is None else of
    if not chosen:
        return "none" if of is None else f"none of {total}"
    if len(chosen) == total:
        return f"all {total}"
    count = f"{len(chosen)}" if of is None else f"{len(chosen)} of {total}"
    return f"{count} ({', '.join(chosen)})" if len(chosen) <= _NAMED else count


def _untested(result: dict, gaps: str) -> str:
    """ "; too few test windows (312 < 625) to test whether chance could give the gap" when
    compare left the Diebold–Mariano tests out for a short split, else ""."""
    left = result.get("tests_left_out")
    if not left:
        return ""
    split = str(result.get("split") or "test")
    return (
        f"; too few {split} windows ({left['windows']} < {left['needed']}) to test whether "
        f"chance could give {gaps}"
    )


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


def _p_value(result: dict, a: dict, b: dict, target: str | None = None) -> float | None:
    """The p-value of the test of rows ``a`` and ``b`` (on ``target`` alone, when given) in
    ``result["tests"]``, or None."""
    names = {a["name"], b["name"]}
    test = next((t for t in result.get("tests") or ()
                 if {t["a"], t["b"]} == names and t.get("target") == target), None)  # fmt: skip
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
