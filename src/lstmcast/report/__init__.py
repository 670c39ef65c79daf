"""The report: figures and the HTML/Markdown page; the only part of lstmcast importing matplotlib.

``write_report(result, out_dir)`` turns the result dict of ``lstmcast compare`` into
``report.html`` (self-contained) and ``report.md``; ``verdict(result)`` is its headline
sentence, ``seed_note(result)`` the one on the seed.
"""

from lstmcast.report.headline import seed_note, verdict
from lstmcast.report.html import write_report

__all__ = ["seed_note", "verdict", "write_report"]
