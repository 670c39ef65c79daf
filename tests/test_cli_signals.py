"""The CLI under the signals and streams of real use: a reader that goes away (`| head`),
SIGTERM (kill, timeout, docker stop, SLURM), and warnings made errors (-W error)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import optuna
import pytest

from lstmcast.checkpoint import CHECKPOINT
from lstmcast.modelfile import CHECKPOINT_DIR, MANIFEST

TINY = ["--time-col", "time", "--target", "load", "--units", "4", "--lookback", "12"]
CLI = "from lstmcast.cli import main; import sys; sys.exit(main(sys.argv[1:]))"

# Runs the CLI and sends the process SIGTERM at the first training step after the {epoch}-th
# epoch (counted over every fit of the process) has ended.
TERMINATOR = """
import os, signal, sys
import lstmcast.train as t
loss, evaluate, state = t.masked_loss, t.evaluate_loss, {{"epochs": 0, "sent": False}}
def evaluate_loss(*args, **kwargs):  # once at the end of every epoch (it calls masked_loss)
    value = evaluate(*args, **kwargs)
    state["epochs"] += 1
    return value
def masked_loss(*args, **kwargs):
    if state["epochs"] == {epoch} and not state["sent"]:
        state["sent"] = True
        os.kill(os.getpid(), signal.SIGTERM)
    return loss(*args, **kwargs)
t.evaluate_loss, t.masked_loss = evaluate_loss, masked_loss
from lstmcast.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _env(unbuffered: bool = False, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "PYTHONWARNINGS")}
    return env | ({"PYTHONUNBUFFERED": "1"} if unbuffered else {}) | extra


def _cli(*args: str, code: str = CLI, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env or _env(),
    )


def _reader_leaves(args: list[str], *, unbuffered: bool, lines: int = 0) -> tuple[int, str]:
    """Run the CLI with stdout a pipe whose reader reads ``lines`` lines and goes away; the
    exit status and stderr."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CLI, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(unbuffered),
    )
    for _ in range(lines):
        proc.stdout.readline()
    proc.stdout.close()  # `| head -N`: the reader is gone
    stderr = proc.stderr.read().decode()
    return proc.wait(timeout=300), stderr


# ---------------------------------------------------------------- a reader that goes away
@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
def test_compare_whose_reader_went_away_still_writes_its_files(synthetic_csv, tmp_path, unbuffered):
    """`compare | true`: buffered, the table failed at the flush at exit (status 120 and
    "Exception ignored ... BrokenPipeError"); unbuffered, its first line stopped the command
    before --json and the report were written, though every network was trained."""
    out, scores = tmp_path / "report", tmp_path / "scores.json"
    args = ["compare", "--data", str(synthetic_csv), *TINY, "--epochs", "1",
            "--baselines", "persistence", "--out", str(out), "--json", str(scores)]  # fmt: skip
    status, stderr = _reader_leaves(args, unbuffered=unbuffered)
    assert (status, stderr) == (141, "")
    assert json.loads(scores.read_text())["results"]
    assert (out / "report.html").is_file()


def test_tune_piped_to_head_finishes_the_study(synthetic_csv, tmp_path):
    """`tune | head -1`: the second trial's line ended the search after one trial of three,
    with no best.toml; the search now runs to its end, then exits 141."""
    out = tmp_path / "tune"
    args = ["tune", "--data", str(synthetic_csv), *TINY[:4], "--epochs", "1", "--trials", "3",
            "--search-lookback", "12", "--out", str(out)]  # fmt: skip
    status, stderr = _reader_leaves(args, unbuffered=False, lines=1)
    assert (status, stderr) == (141, "")
    study = optuna.load_study(study_name="lstmcast", storage=f"sqlite:///{out / 'study.db'}")
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 3
    assert (out / "best.toml").is_file()


# ---------------------------------------------------------------- SIGTERM
def test_sigterm_stops_train_as_ctrl_c_does_with_status_143(synthetic_csv, tmp_path):
    """SIGTERM killed train (status -15) with half a progress bar, and no resume hint."""
    out = tmp_path / "model"
    args = ["train", "--data", str(synthetic_csv), *TINY, "--epochs", "5", "--out", str(out)]
    stopped = _cli(*args, code=TERMINATOR.format(epoch=2))
    assert stopped.returncode == 143, stopped.stderr
    assert stopped.stderr.strip().splitlines()[-1] == (
        f"lstmcast train: terminated after epoch 2; nothing saved to {out}: continue with "
        f"`lstmcast train --resume {out}`"
    )
    assert (out / CHECKPOINT_DIR / CHECKPOINT).is_file() and not (out / MANIFEST).exists()


def test_sigterm_in_a_trial_fails_it_and_tune_writes_the_finished_ones(synthetic_csv, tmp_path):
    """SIGTERM killed tune (status -15): its trial stayed marked running in the study for
    ever, and no best.toml was written from the trials that had finished."""
    out = tmp_path / "tune"
    args = ["tune", "--data", str(synthetic_csv), *TINY[:4], "--epochs", "2", "--patience",
            "none", "--trials", "3", "--search-lookback", "12", "--out", str(out)]  # fmt: skip
    stopped = _cli(*args, code=TERMINATOR.format(epoch=2))  # trial 1, its first step
    assert stopped.returncode == 143, stopped.stderr
    assert stopped.stderr.strip().splitlines()[-1] == (
        f"lstmcast tune: terminated: trial 1 is recorded as failed; {out / 'best.toml'} holds "
        "the best of the 1 finished trial; run the same command again to continue the study "
        f"'lstmcast' in sqlite:///{out / 'study.db'}"
    )
    study = optuna.load_study(study_name="lstmcast", storage=f"sqlite:///{out / 'study.db'}")
    assert [t.state.name for t in study.trials] == ["COMPLETE", "FAIL"]
    assert "trial 0 of study 'lstmcast'" in (out / "best.toml").read_text()


# ---------------------------------------------------------------- -W error
def test_a_warning_made_an_error_is_one_line_not_a_traceback(synthetic_csv, tmp_path):
    """PYTHONWARNINGS=error turned lstmcast's own warnings into a traceback and status 1."""
    args = ["tune", "--data", str(synthetic_csv), *TINY[:4], "--epochs", "1", "--trials", "1",
            "--search-lookback", "12", "--out", str(tmp_path / "t"),
            "--storage", "sqlite:///:memory:"]  # fmt: skip
    done = _cli(*args, env=_env(PYTHONWARNINGS="error"))
    assert done.returncode == 2
    assert done.stderr == (
        "lstmcast tune: error: the study storage 'sqlite:///:memory:' lives in memory: it ends "
        "with this call, so it can be neither resumed nor shared; pass a file (e.g. "
        "sqlite:///runs/tune.db) to keep it (a warning turned into an error by -W error / "
        "PYTHONWARNINGS)\n"
    )
