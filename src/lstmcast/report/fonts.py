"""Fonts for the report's figures: find an installed font with the characters that the
default one lacks (Chinese, Japanese or Korean names), or warn once that they will be boxes."""

from __future__ import annotations

from functools import lru_cache

import matplotlib
from matplotlib import font_manager

from lstmcast.errors import warn


def font_fallback(result: dict) -> dict:
    """rc settings under which the figures can write every name in ``result``: the font of the
    current settings, then an installed font with the characters it lacks (matplotlib picks
    glyph by glyph). When no font has them, one warning names the names drawn as empty boxes.
    """
    names = _drawn_names(result)
    main = font_manager.findfont(font_manager.FontProperties())
    missing = {c for n in names for c in n if not c.isspace()} - _charmap(main)
    if not missing:
        return {}
    family, covered = _font_having(frozenset(missing))
    lacking = [n for n in names if set(n) & (missing - covered)]
    lacking = [n for n in lacking if not any(m in n and m != n for m in lacking)]  # the column
    if lacking:
        shown = ", ".join(f"'{n}'" for n in lacking[:5]) + (", ..." if len(lacking) > 5 else "")
        warn(
            f"no installed font has some characters of {shown}, so the report's figures draw "
            "them as empty boxes: install a font that has them (Noto Sans CJK for Chinese, "
            "Japanese or Korean) and delete matplotlib's font cache in "
            f"{matplotlib.get_cachedir()}",
        )
    if family is None:
        return {}
    return {"font.family": [font_manager.get_font(main).family_name, family]}


def _drawn_names(result: dict) -> list[str]:
    """Every name a figure may write: targets, their units, models."""
    target = result.get("target")
    names = [*target] if isinstance(target, list) else [target, result.get("unit")]
    for row in result.get("results", []):
        names.append(row.get("name"))
        for entry in row.get("per_target") or []:
            names += [entry.get("target"), entry.get("unit")]
    names += [*((result.get("stretch") or {}).get("forecasts") or {})]
    names += [*(result.get("history") or {})]
    return [str(n) for n in dict.fromkeys(names) if n]


@lru_cache
def _charmap(path: str) -> frozenset[str]:
    return frozenset(map(chr, font_manager.get_font(path).get_charmap()))


@lru_cache
def _font_having(missing: frozenset[str]) -> tuple[str | None, frozenset[str]]:
    """The installed font family with most of the ``missing`` characters, and those it has;
    Last Resort, whose every glyph is a placeholder, does not count."""
    best: tuple[str | None, frozenset[str]] = (None, frozenset())
    for entry in font_manager.fontManager.ttflist:
        if entry.name.startswith("Last Resort"):
            continue
        try:
            has = missing & _charmap(entry.fname)
        except (OSError, RuntimeError):  # a font file FreeType cannot read
            continue
        if len(has) > len(best[1]):
            best = (entry.name, has)
    return best
