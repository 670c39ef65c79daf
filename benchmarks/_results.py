"""Write one script's section of ``benchmarks/results.md`` without touching the others.

Each benchmark script owns a section between ``<!-- begin: NAME -->`` and ``<!-- end: NAME -->``
and rewrites only that; sections keep their order, a new one is appended.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.md"
HEADER = (
    "# Benchmark results\n\n"
    "Every number here is written by a script in `benchmarks/` (named in each section) following\n"
    "`../shared/benchmarks/PROTOCOL.md`. Rerun the script to refresh its section.\n"
)


def write_section(name: str, markdown: str, path: Path = RESULTS) -> None:
    """Replace (or append) the section ``name`` of the results file with ``markdown``."""
    text = path.read_text() if path.exists() else HEADER
    block = f"<!-- begin: {name} -->\n{markdown.strip()}\n<!-- end: {name} -->"
    pattern = re.compile(
        rf"<!-- begin: {re.escape(name)} -->.*?<!-- end: {re.escape(name)} -->", re.S
    )
    text = (
        pattern.sub(lambda _: block, text)
        if pattern.search(text)
        else f"{text.rstrip()}\n\n{block}\n"
    )
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".results-")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)
