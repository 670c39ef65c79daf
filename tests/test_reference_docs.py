"""The gate-trace snippet in docs/lstm_cell.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "lstm_cell.md"


def test_gate_trace_snippet_runs(tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) == 1
    monkeypatch.chdir(tmp_path)
    exec(compile(blocks[0], str(DOC), "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    difference = float(printed[0].split(": ")[1])
    assert difference <= 1e-6  # float32 torch against the float64 reference
    assert printed[1] == "l1, sample 0"
    assert len(printed) == 1 + 2 + 5  # difference, title, header, five steps
    assert (tmp_path / "gates_l1.png").stat().st_size > 10_000
