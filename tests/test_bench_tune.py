"""bench/bench_tune.py: a trial's settings read as TrainConfig's, and each trial judged seed by seed against the preset."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gan_core.data import load_mnist, mnist_tensor
from gan_core.training import TrainConfig, Trainer
from gan_devkit.bench_scripts import BENCH, load

tune = load("bench_tune")
minute = load("bench_minute")


def row(confident, frechet, digits=10, steps=300, seconds=10.0):
    return {"seconds": seconds, "steps": steps, "confident_share": confident, "classes_covered": digits,
            "min_class_share": 0.06, "frechet": frechet, "error": None}


def test_a_trial_reads_json_values_and_words():
    assert tune.parse_trial("w24:width=24,d_norm=batch,bf16=false,lr_g=4e-3") == (
        "w24", {"width": 24, "d_norm": "batch", "bf16": False, "lr_g": 0.004})
    assert tune.parse_trial("again:") == ("again", {})  # the preset twice: the queue's own noise
    for bad in ("w24", ":width=24", "w24:width", "w24:=3"):
        with pytest.raises(ValueError):
            tune.parse_trial(bad)


def test_a_late_trial_names_its_step():
    assert tune.late_start("r1late@1000") == 1000
    assert tune.late_start("w24") is None  # from the start
    for bad in ("x@", "x@0", "x@ten", "x@-5"):
        with pytest.raises(ValueError):
            tune.late_start(bad)


def small_trainer() -> Trainer:
    data, labels = mnist_tensor("train")[:256], torch.tensor(load_mnist("train")[1][:256]).long()
    return Trainer(TrainConfig.preset("cdcgan", batch_size=16, bf16=False), data, labels=labels)


@pytest.mark.parametrize("step", [4, 10**6])
def test_a_late_trial_switches_its_settings_on_at_its_step_and_not_before(step, monkeypatch):
    """`name@STEP` trials: the preset's settings until iteration STEP, the trial's from there (in a copy of the
    config: the preset's own runs share it), nothing if the run never gets there."""
    t = small_trainer()
    began = t.cfg
    switched_at, switch = [], Trainer.change_settings
    monkeypatch.setattr(Trainer, "change_settings", lambda t, **s: (switched_at.append(t.iteration), switch(t, **s)))
    minute.train_to(t, seconds=3.0, late=(step, {"g_class_weight": 0.05, "lr_g": 1e-3, "r1": 1.0}))
    assert t.iteration > 4 and began.g_class_weight == 0.2 and began.r1 == 0 and began.lr_g == 4e-3
    if step == 4:
        assert switched_at == [4]
        assert (t.cfg.g_class_weight, t.cfg.r1, t.cfg.lr_g) == (0.05, 1.0, 1e-3) and t.cfg.lr_d == began.lr_d
        assert t.opt_g.param_groups[0]["lr"] == 1e-3  # the optimizer too, not only the config
    else:
        assert switched_at == [] and t.cfg is began and t.opt_g.param_groups[0]["lr"] == 4e-3
    with pytest.raises(ValueError, match="width"):  # one the trainer built its networks from cannot change late
        t.change_settings(width=24)


def test_a_trial_is_judged_against_the_preset_of_its_own_seed():
    preset = [[row(0.90, 16.0, steps=260), row(0.98, 15.0)], [row(0.80, 20.0, digits=9, steps=240), row(0.97, 17.0)]]
    trial = [[row(0.86, 14.0, steps=300), row(0.99, 16.0)], [row(0.88, 19.0, steps=300), row(0.975, 18.0, digits=9)]]
    ten, thirty = tune.compare(preset, trial)
    # seed 0 less sure (-4), seed 1 surer (+8): +2 on the mean, higher in one seed of two
    assert ten["confident_gain"] == pytest.approx(0.02) and ten["more_confident"] == 1
    assert ten["frechet_gain"] == 1.5 and ten["frechet_lower"] == 2  # lower distance is a gain
    assert ten["every_digit"] == 2 and ten["preset_every_digit"] == 1
    assert ten["steps_ratio"] == 1.2 and ten["seeds"] == 2
    assert thirty["confident_gain"] == pytest.approx(0.0075) and thirty["more_confident"] == 2
    assert thirty["frechet_gain"] == -1.0 and thirty["frechet_lower"] == 0
    assert thirty["every_digit"] == 1 and thirty["preset_every_digit"] == 2
    swapped = tune.compare(trial, preset)[0]  # the preset against the trial: every sign turns
    assert swapped["confident_gain"] == pytest.approx(-0.02) and swapped["frechet_gain"] == -1.5
    assert swapped["more_confident"] == 1 and swapped["frechet_lower"] == 0
    with pytest.raises(ValueError):
        tune.compare(preset, trial[:1])  # a seed without its pair is an error, not a shorter mean


@pytest.mark.parametrize("args, says", [
    (["cdcgan", "x:widht=24"], "widht"),  # refused as an uploaded config is, with the known keys
    (["cdcgan", "x:width=100000"], "width"),
    (["cdcgan", "preset:width=16"], "trial names"),
    (["cdcgan", "--at", "30,10", "x:width=16"], "--at"),
    (["cdcgan", "--draws", "0", "x:width=16"], "--draws"),
    (["cdcgan", "x@1000:width=24"], "switched on late"),  # the networks are built from it at the start
    (["cdcgan", "x@0:r1=1"], "step >= 1"),
    (["cdcgan", "x@1000:r1=-1"], "r1"),  # a late value is checked as a config's too
])
def test_a_bad_queue_is_refused_before_anything_trains(args, says):
    done = subprocess.run([sys.executable, str(Path(BENCH) / "bench_tune.py"), *args], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and says in done.stderr and "matmul peak" not in done.stdout
