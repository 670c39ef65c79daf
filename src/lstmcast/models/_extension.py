"""The compiled engine (placeholder until the C++ extension lands): never usable."""

from __future__ import annotations


def usable_for(*tensors) -> bool:
    """Whether the compiled engine can run these tensors."""
    return False


LayerFunction = None


def available() -> bool:
    return False


def unavailable_reason() -> str:
    return "not built yet"
