"""Faults during work: atomic saves, Ctrl-C and SIGKILL during training with bit-exact resume,
divergence that leaves nothing half-written or half-fitted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import safetensors.torch
import torch
from safetensors.torch import load_file

import lstmcast
import lstmcast.train
from lstmcast.checkpoint import CHECKPOINT, load_checkpoint
from lstmcast.cli import main
from lstmcast.errors import ConfigError, ModelFileError, NotFittedError, TrainingDivergedError
from lstmcast.forecaster import ForecastConfig, Forecaster
from lstmcast.modelfile import CHECKPOINT_DIR, MANIFEST, WEIGHTS

# batch 16 keeps the compiled engine on one thread slice, so runs compare bit for bit
RUN = ["--time-col", "time", "--target", "load", "--units", "8", "--epochs", "4",
       "--lookback", "12", "--batch-size", "16", "--no-progress"]  # fmt: skip
SRC = str(Path(lstmcast.__file__).resolve().parents[1])


def _weights(model: Path) -> dict[str, torch.Tensor]:
    return load_file(str(model / WEIGHTS))


def _assert_same_weights(a: Path, b: Path) -> None:
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    for key in wa:
        assert torch.equal(wa[key], wb[key]), key


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    from conftest import make_synthetic_frame

    path = tmp_path_factory.mktemp("faults") / "synthetic.csv"
    make_synthetic_frame().to_csv(path, index=False)
    cfg = ForecastConfig(data=str(path), time_col="time", target=["load"], units=[4],
                         epochs=1, lookback=6, progress=False)  # fmt: skip
    return Forecaster(cfg).fit()


# ---------------------------------------------------------------- atomic saves
def test_a_crash_while_writing_weights_leaves_the_old_model_and_no_temporary_files(
    fitted, tmp_path, monkeypatch
):
    model = tmp_path / "model"
    fitted.save(model)
    before = _snapshot(model)

    def half_then_full_disk(state, filename, metadata=None):
        Path(filename).write_bytes(b"half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(safetensors.torch, "save_file", half_then_full_disk)
    with pytest.raises(OSError, match="No space left"):
        fitted.save(model)
    assert _snapshot(model) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no .model.* leftovers
    lstmcast.load(model)


def test_saving_never_replaces_a_folder_of_other_files(fitted, tmp_path):
    (tmp_path / "notes.txt").write_text("my thesis")
    with pytest.raises(ModelFileError, match="holds files that are not an lstmcast model"):
        fitted.save(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "my thesis"
    (tmp_path / "file").write_text("x")
    with pytest.raises(ModelFileError, match="exists and is not a directory"):
        fitted.save(tmp_path / "file")


def test_train_refuses_a_folder_of_other_files_before_training(synthetic_csv, tmp_path, capsys):
    out = tmp_path / "results"
    out.mkdir()
    (out / "keep.csv").write_text("1,2\n")
    assert main(["train", "--data", str(synthetic_csv), "--out", str(out), *RUN]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "holds files that are not an lstmcast model (e.g. 'keep.csv')" in err[-1]
    assert sorted(p.name for p in out.iterdir()) == ["keep.csv"]


def test_saving_never_deletes_other_files_beside_a_model(fitted, tmp_path):
    model = tmp_path / "model"
    fitted.save(model)
    (model / "NOTES.txt").write_text("my notes")
    before = _snapshot(model)
    with pytest.raises(ModelFileError, match=r"holds a model but also other files \('NOTES.txt'\)"):
        fitted.save(model)
    assert _snapshot(model) == before


def test_retraining_refuses_a_model_folder_with_other_files_before_training(
    synthetic_csv, tmp_path, monkeypatch, capsys
):
    """`predict --output DIR/forecast.csv` then `train --out DIR` again deleted the forecast and
    every other file of the user's in DIR: the directory was swapped whole for the new model."""
    out = tmp_path / "model"
    argv = ["train", "--data", str(synthetic_csv), "--out", str(out), *RUN, "--epochs", "1"]
    assert main(argv) == 0
    (out / "forecast.csv").write_text("time,load\n")
    (out / "NOTES.txt").write_text("my notes")
    before = _snapshot(out)
    monkeypatch.setattr(Forecaster, "fit", lambda *a, **k: pytest.fail("trained"))
    assert main([*argv, "--seed", "1"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"lstmcast train: error: {out} holds a model but also other files ('NOTES.txt', "
        f"'forecast.csv') that saving would delete: move them out of {out}, or choose another "
        "--out"
    )
    assert _snapshot(out) == before


def test_training_into_a_symlink_replaces_its_target_and_keeps_the_link(synthetic_csv, tmp_path):
    """`ln -s v3 current; train --out current` put a real directory where the link was and
    left v3 with the old model and a stale checkpoint/."""
    v3, link = tmp_path / "v3", tmp_path / "current"
    argv = ["train", "--data", str(synthetic_csv), *RUN, "--epochs", "1"]
    assert main([*argv, "--out", str(v3)]) == 0
    old = _snapshot(v3)
    link.symlink_to("v3")
    assert main([*argv, "--seed", "1", "--out", str(link)]) == 0
    assert link.is_symlink() and os.readlink(link) == "v3"
    assert sorted(p.name for p in v3.iterdir()) == [MANIFEST, WEIGHTS]  # no leftover checkpoint
    assert _snapshot(v3) != old and lstmcast.load(link).config.seed == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current", "synthetic.csv", "v3"]


# ---------------------------------------------------------------- Ctrl-C and resume
@pytest.fixture(scope="module")
def unbroken(tmp_path_factory):
    """An uninterrupted CLI run (4 epochs) to compare resumed runs with."""
    from conftest import make_synthetic_frame

    folder = tmp_path_factory.mktemp("unbroken")
    csv = folder / "synthetic.csv"
    make_synthetic_frame().to_csv(csv, index=False)
    assert main(["train", "--data", str(csv), "--out", str(folder / "model"), *RUN]) == 0
    return csv, folder / "model"


def _interrupt_at_step(monkeypatch, step: int) -> None:
    """Ctrl-C arrives during the ``step``-th loss computation of the training loop."""
    real = lstmcast.train.masked_loss
    count = [0]

    def masked_loss(*args, **kwargs):
        count[0] += 1
        if count[0] == step:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(lstmcast.train, "masked_loss", masked_loss)


def test_ctrl_c_keeps_a_checkpoint_and_resume_ends_with_the_unbroken_weights(
    unbroken, tmp_path, monkeypatch, capsys
):
    csv, reference = unbroken
    out = tmp_path / "model"
    _interrupt_at_step(monkeypatch, 60)  # 25 steps + 1 validation loss per epoch: epoch 3
    monkeypatch.chdir(csv.parent)  # a relative data path: the resume below runs elsewhere
    assert main(["train", "--data", csv.name, "--out", str(out), *RUN]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (
        f"lstmcast train: interrupted after epoch 2; nothing saved to {out}: "
        f"continue with `lstmcast train --resume {out}`"
    )
    assert not [line for line in err if "warning" in line]  # not the library's own words too
    assert sorted(p.name for p in out.iterdir()) == [CHECKPOINT_DIR]  # no half-made model
    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--resume", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, WEIGHTS]  # checkpoint removed
    _assert_same_weights(out, reference)
    assert lstmcast.load(out).history_.train_loss == lstmcast.load(reference).history_.train_loss


def test_a_run_trained_from_a_pipe_resumes_with_data_naming_the_same_table(
    unbroken, tmp_path, monkeypatch, capsys
):
    """`train --data <(zcat f.gz)` stopped by Ctrl-C: `--resume` alone would read the pipe
    again (a hang on a FIFO, "no such file" for /dev/fd); it now asks for --data, which takes the
    same table (checked by the checkpoint's fingerprint) and ends with the unbroken weights."""
    import os
    import threading

    csv, reference = unbroken
    fifo, out = tmp_path / "pipe", tmp_path / "model"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(csv.read_bytes()))
    writer.start()
    _interrupt_at_step(monkeypatch, 60)  # in epoch 3
    assert main(["train", "--data", str(fifo), "--out", str(out), *RUN]) == 130
    writer.join()
    monkeypatch.undo()
    before = _snapshot(out)
    capsys.readouterr()
    assert main(["train", "--resume", str(out)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"lstmcast train: error: this run was trained from a pipe ({fifo}), which cannot be read "
        f"again: resume with --data FILE holding the same table: `lstmcast train --resume {out} "
        "--data FILE`"
    )
    from conftest import make_synthetic_frame

    other = tmp_path / "other.csv"
    make_synthetic_frame(seed=1).to_csv(other, index=False)
    assert main(["train", "--resume", str(out), "--data", str(other)]) == 2
    assert "was trained on other data" in capsys.readouterr().err
    assert _snapshot(out) == before  # the refusals kept the checkpoint
    assert main(["train", "--resume", str(out), "--data", str(csv)]) == 0
    _assert_same_weights(out, reference)


def test_a_fresh_run_never_discards_the_checkpoint_of_an_interrupted_one(
    synthetic_csv, tmp_path, monkeypatch, capsys
):
    """After Ctrl-C, a new run into the same --out (one with a typo in --target, or the same
    command without --resume) deleted the checkpoint before its checks, so resuming was lost."""
    out = tmp_path / "model"
    _interrupt_at_step(monkeypatch, 30)  # in epoch 2
    assert main(["train", "--data", str(synthetic_csv), "--out", str(out), *RUN]) == 130
    monkeypatch.undo()
    before = _snapshot(out)
    for target in ("typo", "load"):
        argv = ["train", "--data", str(synthetic_csv), "--out", str(out), *RUN, "--target", target]
        assert main(argv) == 2
        assert capsys.readouterr().err.strip().splitlines()[-1] == (
            f"lstmcast train: error: {out / CHECKPOINT_DIR} holds an interrupted run that a new "
            f"run would discard: continue it with `lstmcast train --resume {out}`, or delete "
            f"{out / CHECKPOINT_DIR} to start afresh"
        )
        assert _snapshot(out) == before
    assert main(["train", "--resume", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, WEIGHTS]


def test_a_run_still_going_is_not_called_interrupted(synthetic_csv, tmp_path, monkeypatch, capsys):
    """A second `train --out DIR` beside a live run said its checkpoint held an interrupted run
    and advised --resume, which trained the same checkpoint twice at once. A live run holds a
    lock on its checkpoint (dropped by the kernel however the process ends)."""
    import fcntl

    out = tmp_path / "model"
    _interrupt_at_step(monkeypatch, 30)  # in epoch 2: a checkpoint stays
    assert main(["train", "--data", str(synthetic_csv), "--out", str(out), *RUN]) == 130
    monkeypatch.undo()
    before = _snapshot(out)
    live = os.open(out / CHECKPOINT_DIR, os.O_RDONLY)  # as the run's own process holds it
    fcntl.flock(live, fcntl.LOCK_EX | fcntl.LOCK_NB)
    capsys.readouterr()
    try:
        for argv in (
            ["--data", str(synthetic_csv), "--out", str(out), *RUN],
            ["--resume", str(out)],
        ):
            assert main(["train", *argv]) == 2
            assert capsys.readouterr().err.strip() == (
                f"lstmcast train: error: another process is training into {out} now (it holds "
                f"{out / CHECKPOINT_DIR}): wait for it to finish, or choose another --out"
            )
            assert _snapshot(out) == before
    finally:
        os.close(live)
    assert main(["train", "--resume", str(out)]) == 0  # once it has ended, resume as before


def test_saving_from_python_never_discards_the_checkpoint_of_an_interrupted_run(
    synthetic_csv, tmp_path, monkeypatch
):
    """Forecaster.save into a --out whose CLI run was stopped would have replaced its checkpoint;
    a model trained in that very checkpoint (the CLI's own final save) still replaces it."""
    out = tmp_path / "model"
    _interrupt_at_step(monkeypatch, 30)  # in epoch 2
    assert main(["train", "--data", str(synthetic_csv), "--out", str(out), *RUN]) == 130
    monkeypatch.undo()
    before = _snapshot(out)
    config = ForecastConfig(data=str(synthetic_csv), time_col="time", target="load", units=[4],
                            lookback=6, epochs=1, progress=False)  # fmt: skip
    with pytest.raises(ModelFileError) as err:
        Forecaster(config).fit().save(out)
    assert str(err.value) == (
        f"{out / CHECKPOINT_DIR} holds an interrupted run that saving would discard: continue "
        f"it with `lstmcast train --resume {out}`, or delete {out / CHECKPOINT_DIR} to start "
        "afresh"
    )
    assert _snapshot(out) == before
    Forecaster(config).fit(checkpoint_dir=out / CHECKPOINT_DIR).save(out)
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, WEIGHTS]


KILLER = """
import os, signal, sys
sys.path.insert(0, {src!r})
import lstmcast.train as t
save, loss, state = t.save_checkpoint, t.masked_loss, {{"saved": 0, "steps": 0}}
def save_checkpoint(*args, **kwargs):
    state["saved"] += 1
    return save(*args, **kwargs)
def masked_loss(*args, **kwargs):
    if state["saved"] == {epoch}:
        state["steps"] += 1
        if state["steps"] == 5:  # in the middle of the next epoch
            os.kill(os.getpid(), signal.SIGKILL)
    return loss(*args, **kwargs)
t.save_checkpoint, t.masked_loss = save_checkpoint, masked_loss
from lstmcast.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _cli(*args: str, code: str = "from lstmcast.cli import main; import sys; "
         "sys.exit(main(sys.argv[1:]))") -> subprocess.CompletedProcess:  # fmt: skip
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300
    )


def test_sigkill_mid_epoch_then_resume_gives_the_unbroken_weights(tmp_path):
    from conftest import make_synthetic_frame

    csv = tmp_path / "synthetic.csv"
    make_synthetic_frame().to_csv(csv, index=False)
    reference = tmp_path / "reference"
    # every run in a fresh process of its own: the same threads and engine as each other
    done = _cli("train", "--data", str(csv), "--out", str(reference), *RUN)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "killed"
    killed = _cli("train", "--data", str(csv), "--out", str(out), *RUN,
                  code=KILLER.format(src=SRC, epoch=2))  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert (out / CHECKPOINT_DIR / CHECKPOINT).is_file() and not (out / MANIFEST).exists()
    saved = load_checkpoint(out / CHECKPOINT_DIR)
    assert len(saved["history"]["train_loss"]) == 2
    resumed = _cli("train", "--resume", str(out), "--no-progress")
    assert resumed.returncode == 0, resumed.stderr
    _assert_same_weights(out, reference)
    assert not (out / CHECKPOINT_DIR).exists()


def test_a_real_sigint_stops_cleanly_with_a_checkpoint(tmp_path):
    from conftest import make_synthetic_frame

    csv = tmp_path / "synthetic.csv"
    make_synthetic_frame().to_csv(csv, index=False)
    out = tmp_path / "model"
    code = KILLER.format(src=SRC, epoch=1).replace("signal.SIGKILL", "signal.SIGINT")
    # a terminal delivers Ctrl-C to Python's handler; a background job (nohup, &) starts with
    # SIGINT ignored, so put the terminal's handler back in the child first
    code = code.replace(
        "import os, signal, sys\n",
        "import os, signal, sys\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n",
        1,
    )
    stopped = _cli("train", "--data", str(csv), "--out", str(out), *RUN, code=code)
    assert stopped.returncode == 130, stopped.stderr
    assert stopped.stderr.strip().splitlines()[-1] == (
        f"lstmcast train: interrupted after epoch 1; nothing saved to {out}: "
        f"continue with `lstmcast train --resume {out}`"
    )
    assert sorted(p.name for p in (out / CHECKPOINT_DIR).iterdir()) == ["config.json", CHECKPOINT]


def test_resume_refuses_other_settings_and_missing_checkpoints(unbroken, tmp_path, capsys):
    csv, _ = unbroken
    assert main(["train", "--resume", str(tmp_path / "none")]) == 2
    assert "no checkpoint in" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path), "--units", "16"]) == 2
    assert (
        "only --epochs and --progress may change (and --data may name the same table), got --units"
        in capsys.readouterr().err
    )
    assert main(["train", "--resume", str(tmp_path), "--no-residual"]) == 2
    assert capsys.readouterr().err.endswith("got --no-residual\n")  # as typed, not --residual


def test_resume_with_fewer_epochs_than_already_run_is_refused(unbroken, tmp_path, monkeypatch,
                                                              capsys):  # fmt: skip
    """--resume DIR --epochs 1 after 2 epochs saved a manifest saying 1 epoch beside a history
    of 2: the record did not describe the model. The checkpoint stays for a right resume."""
    csv, reference = unbroken
    out = tmp_path / "model"
    _interrupt_at_step(monkeypatch, 60)  # during epoch 3
    assert main(["train", "--data", str(csv), "--out", str(out), *RUN]) == 130
    monkeypatch.undo()
    capsys.readouterr()
    assert main(["train", "--resume", str(out), "--epochs", "1"]) == 2
    assert capsys.readouterr().err == (
        f"lstmcast train: error: the run in {out / CHECKPOINT_DIR} has trained 2 epochs already, "
        "more than epochs=1: resume with --epochs 2 or more (an upper bound)\n"
    )
    assert main(["train", "--resume", str(out)]) == 0  # the checkpoint was kept
    _assert_same_weights(out, reference)


def test_resume_refuses_a_hostile_settings_file_in_one_line(tmp_path, capsys):
    (tmp_path / CHECKPOINT_DIR).mkdir()
    (tmp_path / CHECKPOINT_DIR / "config.json").write_text("[" * 200_000 + "]" * 200_000)
    assert main(["train", "--resume", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"lstmcast train: error: {tmp_path / CHECKPOINT_DIR / 'config.json'} ")
    assert err.endswith("is unreadable (maximum recursion depth exceeded while decoding a JSON "
                        "array from a unicode string): start the run afresh")  # fmt: skip


def test_resume_on_other_data_or_settings_is_refused(tmp_path):
    from conftest import make_synthetic_frame

    g = torch.Generator().manual_seed(0)
    X, Y = torch.randn(64, 5, 2, generator=g), torch.randn(64, 1, generator=g)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(10, 1))
    cfg = lstmcast.train.TrainConfig(epochs=2, batch_size=16, progress=False)
    lstmcast.train.train_network(net, X, Y, cfg, checkpoint_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"other settings \(batch_size=16\)"):
        lstmcast.train.train_network(
            net, X, Y, cfg.__class__(epochs=2, batch_size=8, progress=False),
            checkpoint_dir=tmp_path, resume=True,
        )  # fmt: skip
    with pytest.raises(ConfigError, match="was trained on other data"):
        lstmcast.train.train_network(net, X + 1, Y, cfg, checkpoint_dir=tmp_path, resume=True)
    assert make_synthetic_frame  # conftest stays importable for the module fixtures


@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"])
def test_ctrl_c_while_a_checkpoint_is_written_waits_for_it(tmp_path, monkeypatch, stop):
    """Ctrl-C during the checkpoint write of epoch 2 threw that write away, so the history
    said 2 epochs while the checkpoint held 1; the write now finishes before the interrupt.
    So does SIGTERM under the CLI's handler, which stops a command as Ctrl-C does."""
    import os
    import signal

    from lstmcast.cli import _on_sigterm, _terminate

    if stop == "SIGTERM":
        before = _on_sigterm(_terminate)
        monkeypatch.setattr("lstmcast.cli._terminated", False)  # what _terminate sets
    else:
        before = signal.getsignal(signal.SIGTERM)

    real_save, saves = torch.save, []

    def save_then_ctrl_c(obj, f, *args, **kwargs):
        saves.append(1)
        if len(saves) == 2:
            os.kill(os.getpid(), getattr(signal, stop))  # arrives in the middle of the write
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(lstmcast.train.torch, "save", save_then_ctrl_c)
    g = torch.Generator().manual_seed(0)
    X, Y = torch.randn(64, 5, 2, generator=g), torch.randn(64, 1, generator=g)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(10, 1))
    cfg = lstmcast.train.TrainConfig(epochs=4, batch_size=16, progress=False)
    try:
        history = lstmcast.train.train_network(net, X, Y, cfg, checkpoint_dir=tmp_path)
        assert signal.getsignal(signal.SIGTERM) is (_terminate if stop == "SIGTERM" else before)
    finally:
        signal.signal(signal.SIGTERM, before if before is not None else signal.SIG_DFL)
    assert history.interrupted and len(history.train_loss) == 2
    saved = load_checkpoint(tmp_path)
    assert saved["history"]["train_loss"] == history.train_loss
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


# ---------------------------------------------------------------- divergence
def test_divergence_leaves_the_forecaster_unfitted(synthetic_csv):
    """The network keeps its last good weights (tests/test_train.py); the forecaster is not
    left half-fitted with it: a fit that fails leaves it as it was (test_python_api.py)."""
    cfg = ForecastConfig(data=str(synthetic_csv), time_col="time", target=["load"], units=[4],
                         epochs=3, lookback=6, optimizer="sgd", learning_rate=1e8,
                         clip_norm=1e30, progress=False)  # fmt: skip
    fc = Forecaster(cfg)
    with pytest.raises(TrainingDivergedError, match=r"lower the learning rate .*\(clip_norm, now "):
        fc.fit()
    assert not hasattr(fc, "network_") and not hasattr(fc, "scaler_")
    with pytest.raises(NotFittedError, match="not fitted yet"):
        fc.predict()


def test_divergence_in_the_cli_is_one_line_and_leaves_nothing(synthetic_csv, tmp_path, capsys):
    out = tmp_path / "model"
    argv = ["train", "--data", str(synthetic_csv), "--out", str(out), *RUN,
            "--optimizer", "sgd", "--learning-rate", "1e8", "--clip-norm", "1e30"]  # fmt: skip
    assert main(argv) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(err) == 1 and err[0].startswith("lstmcast train: error: training diverged at ")
    assert "lower the learning rate" in err[0]
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["synthetic.csv"]


def test_a_reader_that_goes_away_stops_the_command_quietly():
    """`lstmcast ... | head`: the closed pipe ends the command with 141 (128 + SIGPIPE), as a
    Unix tool killed by it, and prints no "error: Broken pipe" line nor a traceback."""
    code = "from lstmcast.cli import main; import sys; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "gradcheck", "--hidden", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # the reader is gone before the first line is written
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert stderr == ""


def test_ctrl_c_in_a_later_network_of_an_ensemble_is_an_interruption_too(tmp_path, monkeypatch,
                                                                          capsys):  # fmt: skip
    """A stop while the second network of --ensemble 2 trained saved a half-trained model,
    exited 0 and deleted the checkpoint: only the first network's history was looked at."""
    from conftest import make_synthetic_frame

    csv = tmp_path / "synthetic.csv"
    make_synthetic_frame().to_csv(csv, index=False)
    run = ["--data", str(csv), *RUN, "--ensemble", "2"]
    assert main(["train", "--out", str(tmp_path / "reference"), *run]) == 0
    out = tmp_path / "model"
    _interrupt_at_step(monkeypatch, 4 * 26 + 60)  # 4 epochs of the first network, then 2 more
    assert main(["train", "--out", str(out), *run]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(
        "lstmcast train: interrupted after epoch 2 of network 2 of 2; nothing saved to "
    )
    assert sorted(p.name for p in out.iterdir()) == [CHECKPOINT_DIR]  # no half-trained model
    monkeypatch.undo()
    assert main(["train", "--resume", str(out)]) == 0
    _assert_same_weights(out, tmp_path / "reference")
