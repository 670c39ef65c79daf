"""The training loop: masked losses, early stopping, seeding, divergence, config errors."""

import re

import numpy as np
import pytest
import torch

from lstmcast.errors import ConfigError, TrainingDivergedError
from lstmcast.train import TrainConfig, evaluate_loss, masked_loss, train_network


def _data(n=120, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 6, 2, generator=g)
    Y = X[:, -1, :1] * 0.5 + X[:, 0, 1:] * 0.3  # (n, 1), learnable
    return X, torch.cat([Y, -Y], dim=1)  # (n, 2)


def _net(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(12, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)
    )


def test_masked_loss_is_the_mean_over_observed_targets_only():
    pred = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    target = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    mask = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    assert masked_loss(pred, target, mask, "mse").item() == pytest.approx((1 + 4) / 2)
    assert masked_loss(pred, target, mask, "mae").item() == pytest.approx((1 + 2) / 2)
    # huber with delta 1: 0.5*1 for |1| ... |2| -> 1*(2-0.5)
    assert masked_loss(pred, target, mask, "huber").item() == pytest.approx((0.5 + 1.5) / 2)


def test_planted_na_targets_never_reach_the_loss():
    X, Y = _data()
    planted = Y.clone()
    holes = torch.zeros_like(Y, dtype=torch.bool)
    holes[::7, 0] = True
    holes[3::11, 1] = True
    planted[holes] = float("nan")
    garbage = Y.clone()
    garbage[holes] = 1e6  # would dominate any loss that saw it
    cfg = TrainConfig(epochs=3, batch_size=16, progress=False)
    a, b = _net(), _net()
    ha = train_network(a, X, planted, cfg)
    hb = train_network(b, X, garbage, cfg, mask=~holes)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert ha.train_loss == hb.train_loss
    assert max(ha.train_loss) < 10  # the 1e6 values were never seen


def test_early_stopping_restores_the_best_epoch():
    X, Y = _data(200)
    Xv, Yv = _data(60, seed=1)
    Yv = Yv + torch.randn(Yv.shape, generator=torch.Generator().manual_seed(3))  # noisy val
    cfg = TrainConfig(
        epochs=40, batch_size=8, learning_rate=0.05, patience=3, lr_patience=None, progress=False
    )
    net = _net()
    h = train_network(net, X, Y, cfg, X_val=Xv, Y_val=Yv)
    assert h.stopped_early and len(h.val_loss) < 40
    best = min(range(len(h.val_loss)), key=h.val_loss.__getitem__)
    assert h.best_epoch == best + 1 and h.best_epoch < len(h.val_loss)
    assert evaluate_loss(net, Xv, Yv, None, cfg) == pytest.approx(h.val_loss[best], rel=1e-6)


def test_the_same_seed_reproduces_the_weights_and_another_does_not():
    X, Y = _data()
    runs = []
    for seed in (7, 7, 8):
        net = _net(seed)
        train_network(net, X, Y, TrainConfig(epochs=2, batch_size=16, seed=seed, progress=False))
        runs.append(torch.cat([p.flatten() for p in net.parameters()]))
    assert torch.equal(runs[0], runs[1])
    assert not torch.equal(runs[0], runs[2])


def test_divergence_stops_with_advice_and_keeps_the_last_good_weights():
    X, Y = _data()
    net = _net()
    cfg = TrainConfig(epochs=5, optimizer="sgd", learning_rate=1e12, clip_norm=None, progress=False)
    with pytest.raises(TrainingDivergedError, match="lower the learning rate") as caught:
        train_network(net, X, Y, cfg)
    assert all(torch.isfinite(p).all() for p in net.parameters())
    # what happened, without the fix: tune records it for a failed trial
    assert re.fullmatch(r"training diverged at epoch \d+ \(loss (nan|inf)\)", caught.value.summary)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("epochs", 0, "epochs must be a positive integer, got 0"),
        ("batch_size", -1, "batch_size must be a positive integer, got -1"),
        ("learning_rate", 0.0, "learning_rate must be positive, got 0.0"),
        ("optimizer", "adamx", "optimizer must be one of adam, adamw, sgd, rmsprop, got 'adamx'"),
        ("loss", "rmse", "loss must be one of mse, mae, huber, got 'rmse'"),
    ],
)
def test_nonsense_settings_are_refused(field, value, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        TrainConfig(**{field: value})


def test_inputs_with_nan_are_refused_with_the_fix():
    X, Y = _data()
    X[5, 2, 1] = float("nan")
    with pytest.raises(Exception, match="training inputs contain NaN or inf: fill missing"):
        train_network(_net(), X, Y, TrainConfig(epochs=1, progress=False))


@pytest.mark.parametrize(
    "policy, width, expected",
    [("PASSIVE", 4, 1), ("", 4, 1), ("active", 4, 3), ("PASSIVE", 256, 3), ("ACTIVE", 256, 3)],
)
def test_tiny_steps_use_one_thread_unless_idle_threads_spin(policy, width, expected, monkeypatch):
    from lstmcast.train import SINGLE_THREAD_MACS, _threads_for

    monkeypatch.setenv("OMP_WAIT_POLICY", policy)
    model = torch.nn.LSTM(3, width)
    X = torch.zeros(100, 10, 3)
    macs = sum(p.numel() for p in model.parameters()) * 32 * 10
    assert (macs < SINGLE_THREAD_MACS) == (width == 4)  # the tiny and the large case
    assert _threads_for(model, X, 32, threads=3) == expected


def _sliding(rows: np.ndarray, lookback: int) -> np.ndarray:
    """(N - L + 1, L, F) windows as a read-only view of rows (N, F), as make_windows cuts them."""
    return np.lib.stride_tricks.sliding_window_view(rows, lookback, axis=0).swapaxes(1, 2)


def test_sliding_windows_stay_a_view_of_their_rows_and_train_as_a_copy_does(tmp_path):
    """make_windows' views become one float32 copy of the rows, not of every window, and give
    the weights, losses and checkpoint fingerprint of the same windows copied out in full."""
    from lstmcast.checkpoint import fingerprint, load_checkpoint
    from lstmcast.train import window_tensor

    rng = np.random.default_rng(0)
    rows = rng.normal(size=(131, 3))  # float64, as the Forecaster's scaled table
    view = _sliding(rows, 6)[:, :, :2]  # (126, 6, 2): two of the three columns, as inputs
    X = window_tensor(view)
    assert X.untyped_storage().nbytes() == 131 * 2 * 4  # the rows, once, in float32
    assert torch.equal(X, torch.as_tensor(np.array(view, dtype=np.float32)))
    Y = rows[6:, :1] - rows[5:-1, 2:]  # (125, 1)
    view, X_val, Y_val = view[:-1], view[100:120], Y[100:120]
    cfg = TrainConfig(epochs=3, batch_size=16, progress=False)
    runs = []
    for inputs, val in ((view, X_val), (np.array(view), np.array(X_val))):
        net = _net()
        history = train_network(net, inputs, Y[:, [0, 0]], cfg, X_val=val, Y_val=Y_val[:, [0, 0]],
                                checkpoint_dir=tmp_path / str(len(runs)))  # fmt: skip
        runs.append((net.state_dict(), history, load_checkpoint(tmp_path / str(len(runs)))))
    (a, ha, ca), (b, hb, cb) = runs
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert ha.train_loss == hb.train_loss and ha.val_loss == hb.val_loss
    assert ca["fingerprint"] == cb["fingerprint"]
    whole = torch.as_tensor(np.array(view, dtype=np.float32))  # the fingerprint reads chunks
    assert fingerprint(cfg, X[:-1], None) == fingerprint(cfg, whole, None)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("columns", [slice(0, 2), slice(1, 3), [0, 2]])
def test_window_tensor_holds_the_windows_whatever_the_rows_memory_layout(order, columns):
    """A DataFrame's values are often column-major (Fortran order): the float32 copy of the
    rows must still hold window i, step j, feature k at [i, j, k] (a row-major assumption laid
    consecutive values of one column across the features)."""
    from lstmcast.train import window_tensor

    rows = np.asarray(np.random.default_rng(0).normal(size=(50, 3)), order=order)
    view = _sliding(rows, 4)[:, :, columns]
    assert torch.equal(window_tensor(view), torch.as_tensor(np.array(view, dtype=np.float32)))


@pytest.mark.parametrize(
    ("optimizer", "weight_decay", "expected"),
    [("adamw", None, 0.01), ("adamw", 0.0, 0.0), ("adam", None, 0.0), ("rmsprop", 1e-4, 1e-4)],
)
def test_weight_decay_defaults_to_the_optimisers_own(optimizer, weight_decay, expected):
    """With weight_decay 0 forced on it, adamw was adam under another name (bit-identical
    weights) while tune searched it as a third optimiser; unset, each takes torch's default."""
    from lstmcast.config import ForecastConfig
    from lstmcast.train import _make_optimizer

    config = ForecastConfig(optimizer=optimizer, weight_decay=weight_decay).train_config()
    opt = _make_optimizer(_net(), config)
    assert opt.param_groups[0]["weight_decay"] == expected


def test_nan_in_the_rows_under_sliding_windows_is_refused():
    rows = np.random.default_rng(1).normal(size=(40, 2))
    rows[-1, 1] = np.nan  # read by the last window only
    with pytest.raises(Exception, match="training inputs contain NaN or inf: fill missing"):
        train_network(_net(), _sliding(rows, 6), np.zeros((35, 2)), TrainConfig(progress=False))


def test_the_progress_bar_names_the_epoch_that_is_running(monkeypatch):
    import lstmcast.train

    bars = []

    class Bar:  # records the label shown at every step
        def __init__(self, **kwargs):
            self.label, self.shown = None, []
            bars.append(self)

        def set_description(self, label):
            self.label = label

        def update(self, n):
            self.shown.append(self.label)

        def close(self):
            pass

    monkeypatch.setattr(lstmcast.train, "tqdm", Bar)
    X, Y = _data(40)
    history = train_network(_net(), X, Y, TrainConfig(epochs=2, batch_size=16, progress=True),
                            X_val=X[:8], Y_val=Y[:8], label="network 2/3 ")  # fmt: skip
    first = f"loss={history.train_loss[0]:.4g} val={history.val_loss[0]:.4g}"
    assert bars[0].shown == ["network 2/3 epoch 1/2"] * 3 + [f"network 2/3 epoch 2/2 {first}"] * 3
    last = f"loss={history.train_loss[1]:.4g} val={history.val_loss[1]:.4g}"
    assert bars[0].label == f"network 2/3 epoch 2/2 {last}"


def test_an_80_column_terminal_shows_the_epoch_losses_and_time_left(monkeypatch):
    """tqdm's postfix came last, so at 80 columns the validation loss was cut off."""
    import io

    import lstmcast.train

    screen = io.StringIO()
    real = lstmcast.train.tqdm
    monkeypatch.setattr(
        lstmcast.train,
        "tqdm",
        lambda **kw: real(**{**kw, "dynamic_ncols": False}, file=screen, ncols=80),
    )
    X, Y = _data(40)
    history = train_network(_net(), X, Y, TrainConfig(epochs=2, batch_size=16, progress=True),
                            X_val=X[:8], Y_val=Y[:8])  # fmt: skip
    lines = [line for line in re.split(r"[\r\n]", screen.getvalue()) if "epoch 2/2" in line]
    assert lines and all(len(line) <= 80 for line in lines)
    shown = f"epoch 2/2 loss={history.train_loss[0]:.4g} val={history.val_loss[0]:.4g}: "
    assert any(line.startswith(shown) and re.search(r"\[\d\d:\d\d<\d\d:\d\d\]$", line)
               for line in lines), lines  # fmt: skip


def _lstm(activation="tanh", units=(6,), seed=0):
    from lstmcast.models import LSTMNetwork

    torch.manual_seed(seed)
    return LSTMNetwork(2, list(units), n_outputs=2, activation=activation)


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())


def test_resuming_with_another_network_is_refused_by_name(tmp_path):
    """The fingerprint held the training settings and the data only: a checkpoint of a tanh
    network resumed as relu (or with another dropout) trained on silently, and another width
    failed with torch's five-line state_dict error telling to delete the checkpoint."""
    X, Y = _data()
    cfg = TrainConfig(epochs=2, batch_size=32, progress=False)
    train_network(_lstm(), X, Y, cfg, checkpoint_dir=tmp_path)
    longer = TrainConfig(epochs=3, batch_size=32, progress=False)
    with pytest.raises(ConfigError) as err:
        train_network(_lstm("relu"), X, Y, longer, checkpoint_dir=tmp_path, resume=True)
    assert str(err.value) == (
        f"the checkpoint in {tmp_path} was trained with another network (activation='tanh'): "
        "resume with the same settings, or delete the checkpoint to start afresh"
    )
    with pytest.raises(ConfigError, match=r"another network \(units=\[6\]\): resume with"):
        train_network(_lstm(units=(8,)), X, Y, longer, checkpoint_dir=tmp_path, resume=True)
    history = train_network(_lstm(), X, Y, longer, checkpoint_dir=tmp_path, resume=True)
    assert len(history.train_loss) == 3


def test_ctrl_c_in_the_validation_pass_keeps_whole_epochs_only(monkeypatch):
    """Ctrl-C while epoch 2 was being validated left 2 training losses beside 1 validation
    loss (the CLI then said "interrupted after epoch 2" though the checkpoint held epoch 1);
    and Ctrl-C inside epoch 1 left the weights of half an epoch in the network."""
    import lstmcast.train

    X, Y = _data()
    cfg = TrainConfig(epochs=5, batch_size=16, progress=False)
    real, calls = lstmcast.train.evaluate_loss, []

    def ctrl_c_in_the_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(lstmcast.train, "evaluate_loss", ctrl_c_in_the_second)
    net = _net()
    history = train_network(net, X, Y, cfg, X_val=X[:20], Y_val=Y[:20])
    assert history.interrupted and history.best_epoch == 1
    lengths = {len(history.train_loss), len(history.val_loss), len(history.learning_rate),
               len(history.epoch_seconds)}  # fmt: skip
    assert lengths == {1}
    once = _net()
    train_network(once, X, Y, TrainConfig(epochs=1, batch_size=16, progress=False),
                  X_val=X[:20], Y_val=Y[:20])  # fmt: skip
    assert _same_weights(net, once)

    monkeypatch.setattr(lstmcast.train, "evaluate_loss", real)
    steps = []

    def ctrl_c_at_step_3(module, inputs):
        steps.append(1)
        if len(steps) == 3:
            raise KeyboardInterrupt

    net = _net()
    net.register_forward_pre_hook(ctrl_c_at_step_3)
    history = train_network(net, X, Y, cfg)
    assert history.interrupted and history.train_loss == []
    assert _same_weights(net, _net())  # its initial weights


def test_the_divergence_advice_depends_on_whether_gradients_are_clipped():
    X, Y = _data()
    for clip, advice in ((None, r"or set gradient clipping \(clip_norm, e\.g\. --clip-norm 1\)"),
                         (1.0, r"or clip gradients harder \(clip_norm, now 1\)")):  # fmt: skip
        cfg = TrainConfig(epochs=3, optimizer="sgd", learning_rate=1e38, clip_norm=clip,
                          progress=False)  # fmt: skip
        with pytest.raises(TrainingDivergedError, match=r"lower the learning rate \(now 1e\+38\) "
                           + advice):  # fmt: skip
            train_network(_net(), X, Y, cfg)


def _flat(net: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in net.parameters()])


def test_clipping_bounds_each_step_by_the_learning_rate_times_clip_norm():
    """With plain SGD one step moves the weights by lr x gradient: clipped, by lr x clip_norm
    exactly (the gradient here is far longer); unclipped, by lr x the gradient's own norm."""
    X, Y = _data(40)
    net = _net()
    masked_loss(net(X), Y, None, "mse").backward()
    gradient = torch.cat([p.grad.flatten() for p in net.parameters()]).norm().item()
    lr, clip = 0.5, 1e-3
    assert gradient > 100 * clip
    for clip_norm, expected in ((clip, lr * clip), (None, lr * gradient)):
        cfg = TrainConfig(epochs=1, batch_size=40, optimizer="sgd", learning_rate=lr,
                          clip_norm=clip_norm, progress=False)  # fmt: skip
        net = _net()
        before = _flat(net)
        train_network(net, X, Y, cfg)
        assert (_flat(net) - before).norm().item() == pytest.approx(expected, rel=1e-3)


def _constant_validation(monkeypatch, value=1.0, interrupt_at=None):
    """Validation loss ``value`` every epoch (it never improves); Ctrl-C in validation call
    ``interrupt_at``."""
    import lstmcast.train

    calls = []

    def evaluate_loss(*args, **kwargs):
        calls.append(1)
        if len(calls) == interrupt_at:
            raise KeyboardInterrupt
        return value

    monkeypatch.setattr(lstmcast.train, "evaluate_loss", evaluate_loss)


def test_the_learning_rate_is_cut_on_a_validation_plateau_not_a_training_one(monkeypatch):
    """lr_patience=2: the rate is cut after MORE than 2 epochs without validation improvement
    (torch's ReduceLROnPlateau), i.e. after epochs 4 and 7 here, while the training loss falls."""
    _constant_validation(monkeypatch)
    X, Y = _data(60)
    cfg = TrainConfig(epochs=8, batch_size=16, learning_rate=0.01, patience=None, lr_patience=2,
                      lr_factor=0.5, progress=False)  # fmt: skip
    history = train_network(_net(), X, Y, cfg, X_val=X[:20], Y_val=Y[:20])
    falling = history.train_loss  # no training plateau:
    assert all(b < a * (1 - 1e-3) for a, b in zip(falling, falling[1:], strict=False))
    assert history.val_loss == [1.0] * 8
    assert history.learning_rate == pytest.approx([0.01] * 4 + [0.005] * 3 + [0.0025])


def test_early_stopping_stops_patience_epochs_after_the_best(monkeypatch):
    """patience=3 with a validation loss that never improves after epoch 1: epochs 2, 3 and 4
    are the three bad ones, and training stops after epoch 4."""
    _constant_validation(monkeypatch)
    X, Y = _data(40)
    cfg = TrainConfig(epochs=20, batch_size=16, patience=3, lr_patience=None, progress=False)
    history = train_network(_net(), X, Y, cfg, X_val=X[:20], Y_val=Y[:20])
    assert history.stopped_early and history.best_epoch == 1
    assert len(history.train_loss) == history.best_epoch + 3 == 4


def test_the_training_loss_is_the_mean_loss_over_all_windows():
    """SGD with a rate too small to move a float32 weight: the epoch's training loss is the mean
    loss of the initial network over all 50 windows (batches of 16, 16, 16 and 2)."""
    X, Y = _data(50)
    net = _net()
    with torch.no_grad():
        expected = masked_loss(net(X), Y, None, "mse").item()
    cfg = TrainConfig(epochs=1, batch_size=16, optimizer="sgd", learning_rate=1e-30,
                      progress=False)  # fmt: skip
    before = _flat(net)
    history = train_network(net, X, Y, cfg)
    assert torch.equal(_flat(net), before)  # the weights did not move
    assert history.train_loss[0] == pytest.approx(expected, rel=1e-5)
    # with targets missing (most of the first batch's), the masked mean over every window, as
    # the validation loss is: batches were weighted by their windows, not their scored targets
    mask = torch.ones_like(Y)
    mask[:12] = 0
    mask[30:33] = 0
    with torch.no_grad():
        expected = masked_loss(net(X), Y, mask, "mse").item()
    history = train_network(net, X, Y, cfg, mask=mask)
    assert history.train_loss[0] == pytest.approx(expected, rel=1e-5)


def test_resuming_mid_plateau_keeps_the_stopping_and_scheduler_counters(tmp_path, monkeypatch):
    """Ctrl-C in epoch 5, when early stopping has counted 3 bad epochs and the scheduler 1:
    the resumed run cuts the rate and stops exactly where the unbroken run does."""
    X, Y = _data(40)
    cfg = TrainConfig(epochs=10, batch_size=16, patience=5, lr_patience=1, lr_factor=0.5,
                      learning_rate=0.01, progress=False)  # fmt: skip
    val = {"X_val": X[:20], "Y_val": Y[:20]}
    _constant_validation(monkeypatch)
    whole = _net()
    unbroken = train_network(whole, X, Y, cfg, **val)
    # epoch 1 best; cuts after epochs 3 and 5 (2 bad epochs each); stop after epoch 6 (5 bad)
    assert unbroken.stopped_early and len(unbroken.train_loss) == 6
    assert unbroken.learning_rate == pytest.approx([0.01] * 3 + [0.005] * 2 + [0.0025])

    _constant_validation(monkeypatch, interrupt_at=5)
    broken = _net()
    first = train_network(broken, X, Y, cfg, **val, checkpoint_dir=tmp_path)
    assert first.interrupted and len(first.train_loss) == 4
    _constant_validation(monkeypatch)
    resumed = train_network(broken, X, Y, cfg, **val, checkpoint_dir=tmp_path, resume=True)
    assert resumed.to_dict() | {"epoch_seconds": None} == unbroken.to_dict() | {
        "epoch_seconds": None
    }
    assert _same_weights(broken, whole)


def _batches_seen(cfg: TrainConfig, n: int = 40) -> list[list[int]]:
    """The window numbers the network receives in each step (window i holds i at [0, 0])."""
    X, Y = _data(n)
    X[:, 0, 0] = torch.arange(n, dtype=X.dtype)
    net, seen = _net(), []
    net.register_forward_pre_hook(lambda module, inputs: seen.append(inputs[0][:, 0, 0].tolist()))
    train_network(net, X, Y, cfg)
    return [[int(i) for i in batch] for batch in seen]


def test_shuffling_permutes_the_windows_each_epoch_and_its_absence_keeps_their_order():
    ordered = list(range(40))
    for shuffle in (False, True):
        cfg = TrainConfig(epochs=2, batch_size=16, shuffle=shuffle, progress=False)
        batches = _batches_seen(cfg)
        assert [len(b) for b in batches] == [16, 16, 8] * 2
        epochs = [sum(batches[:3], []), sum(batches[3:], [])]
        for order in epochs:
            assert sorted(order) == ordered  # every window once per epoch
        if shuffle:
            assert ordered not in epochs and epochs[0] != epochs[1]
            assert _batches_seen(cfg) == batches  # seeded
            other = _batches_seen(TrainConfig(epochs=2, batch_size=16, seed=1, progress=False))
            assert other != batches
        else:
            assert epochs == [ordered, ordered]
