"""The CLI end to end: the first run, the refusals and a diverging run in a subprocess as a person runs it, the
rest through the same entry point in this process (gan_devkit.cli_run: a fresh interpreter costs seconds of
importing torch)."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from gan_devkit.archives import noise_folder
from gan_devkit.cli_run import cli


@pytest.fixture(scope="module")
def trained(root, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    r = cli("train", "--model", "mlp", "--steps", 30, "--batch-size", 32, "--width", 64, "--seed", 1,
            "--out", out, cwd=root, fresh=True)
    return out, json.loads(r.stdout.strip().splitlines()[-1])


def test_train_writes_a_loadable_folder(trained):
    out, summary = trained
    assert summary["steps"] == 30 and summary["scores"]["n"] == 2000
    for name in ("config.json", "model.safetensors", "README.md", "samples.png", "metrics.jsonl", "trainer_state.pt"):
        assert (out / name).exists(), name
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 30
    assert "Training: 30 steps" in (out / "README.md").read_text()
    assert Image.open(out / "samples.png").size[0] > 100


def test_sample_png_and_npy(trained, root, tmp_path):
    out, _ = trained
    cli("sample", out, "--n", 9, "--seed", 4, "--out", tmp_path / "g.png", cwd=root)
    assert Image.open(tmp_path / "g.png").mode == "L"
    cli("sample", out, "--n", 5, "--seed", 4, "--out", tmp_path / "s.npy", cwd=root)
    a = np.load(tmp_path / "s.npy")
    assert a.shape == (5, 28, 28) and a.dtype == np.uint8
    cli("sample", out, "--n", 5, "--seed", 4, "--out", tmp_path / "s2.npy", cwd=root)
    assert np.array_equal(a, np.load(tmp_path / "s2.npy"))  # same seed, same samples


def test_score_prints_json(trained, root):
    out, _ = trained
    s = json.loads(cli("score", out, "--n", 200, "--seed", 3, cwd=root).stdout)
    assert s["n"] == 200 and len(s["class_share"]) == 10 and sum(s["class_share"]) == pytest.approx(1, abs=1e-3)
    # the numbers are the run's generator scored on those 200 seeded samples, not just numbers in range
    from gan_core.pipelines import load_generator, score_generator
    here = score_generator(load_generator(str(out)), 200, seed=3)
    assert s["class_share"] == here["class_share"] and s["classes_covered"] == here["classes_covered"]
    assert s["confident_share"] == pytest.approx(here["confident_share"]) and s["frechet"] == pytest.approx(here["frechet"], rel=1e-4)


def test_resume_continues(trained, root, tmp_path):
    import shutil
    out, _ = trained
    run = tmp_path / "run"
    shutil.copytree(out, run)
    r = cli("train", "--steps", 40, "--out", run, "--resume", "--no-score", cwd=root)
    assert json.loads(r.stdout.strip().splitlines()[-1])["steps"] == 40
    assert "resuming" in r.stderr
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 40
    # a final phase: lower learning rates and an EMA of G, on the same run
    r = cli("train", "--steps", 45, "--out", run, "--resume", "--no-score", "--lr-g", 5e-5, "--lr-d", 6e-5,
            "--ema", 0.9, cwd=root)
    from gan_core.config import TrainConfig
    was = TrainConfig.preset("mlp")  # the fixture's run keeps its preset's rates and EMA
    assert f"changed on resume: lr_g {was.lr_g} -> 5e-05, lr_d {was.lr_d} -> 6e-05, ema {was.ema} -> 0.9" in r.stderr
    import torch
    state = torch.load(run / "trainer_state.pt", weights_only=True)
    assert state["iteration"] == 45
    assert (state["config"]["lr_g"], state["config"]["lr_d"], state["config"]["ema"]) == (5e-5, 6e-5, 0.9)
    assert [g["lr"] for g in state["opt_g"]["param_groups"]] == [5e-5]
    # any live setting changes; one given at the run's own value is no change; one that makes another run stops
    r = cli("train", "--steps", 47, "--out", run, "--resume", "--no-score", "--batch-size", 16, "--width", 64,
            "--lr-g", 5e-5, cwd=root)
    assert "changed on resume: batch_size 32 -> 16" in r.stderr and "lr_g" not in r.stderr.split("changed on resume")[1]
    state = torch.load(run / "trainer_state.pt", weights_only=True)
    assert (state["iteration"], state["config"]["batch_size"], state["config"]["width"]) == (47, 16, 64)
    r = cli("train", "--steps", 50, "--out", run, "--resume", "--no-score", "--width", 32, "--z-dim", 50,
            "--lr-d", 1e-5, cwd=root, check=False)
    assert r.returncode != 0 and "Traceback" not in r.stderr and "resuming" not in r.stderr
    assert f"--resume: --z-dim 50 (the run's is {was.z_dim}), --width 32 (the run's is 64) cannot change" in r.stderr
    assert torch.load(run / "trainer_state.pt", weights_only=True)["iteration"] == 47  # nothing trained or written


def test_clear_errors(root, tmp_path):
    r = cli("sample", tmp_path / "nope", "--out", tmp_path / "x.png", cwd=root, check=False, fresh=True)
    assert r.returncode != 0 and "error:" in r.stderr and "Traceback" not in r.stderr
    here = cli("sample", tmp_path / "nope", "--out", tmp_path / "x.png", cwd=root, check=False)
    assert (here.returncode, here.stdout, here.stderr) == (r.returncode, r.stdout, r.stderr)  # the runner is faithful
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "config.json").write_text('{"architecture": "MLPGenerator"}')
    (tmp_path / "bad" / "model.safetensors").write_bytes(b"garbage")
    r = cli("score", tmp_path / "bad", cwd=root, check=False)
    assert r.returncode != 0 and "corrupt" in r.stderr and "Traceback" not in r.stderr
    r = cli("train", "--out", tmp_path / "o", cwd=root, check=False)
    assert r.returncode != 0 and "--steps" in r.stderr
    r = cli("train", "--steps", "many", "--out", tmp_path / "o", cwd=root, check=False, fresh=True)  # argparse's own
    here = cli("train", "--steps", "many", "--out", tmp_path / "o", cwd=root, check=False)
    assert r.returncode == here.returncode == 2 and r.stderr == here.stderr and "invalid int value: 'many'" in r.stderr
    r = cli("train", "--steps", 3, "--ema", 1.5, "--out", tmp_path / "o", cwd=root, check=False)
    assert r.returncode != 0 and "--ema: 'ema' = 1.5 is outside the allowed range" in r.stderr and "Traceback" not in r.stderr
    r = cli("train", "--steps", 3, "--n-critic", 0, "--out", tmp_path / "o", cwd=root, check=False)  # the one bounds table
    assert r.returncode == 2 and "'n_critic' = 0 is outside the allowed range [1, 20]" in r.stderr
    r = cli("train", "--steps", 3, "--data", tmp_path / "nowhere", "--out", tmp_path / "o", cwd=root, check=False)
    assert r.returncode != 0 and "error: image folder not found" in r.stderr and "Traceback" not in r.stderr


def test_train_on_image_folder_with_bad_file(root, tmp_path):
    imgs = noise_folder(tmp_path / "imgs" / "person", 8, ext="jpg")
    (imgs / "broken.jpg").write_bytes(b"\xff\xd8 not really")
    r = cli("train", "--model", "wgan-gp", "--data", tmp_path / "imgs", "--img-size", 64, "--steps", 2,
            "--batch-size", 4, "--width", 4, "--n-critic", 1, "--bf16", "--channels-last", "--out", tmp_path / "face",
            cwd=root)
    assert "skipped 1 unreadable" in r.stderr and "Warning" not in r.stderr  # one line, not Python's warning too
    config = torch.load(tmp_path / "face" / "trainer_state.pt", weights_only=True)["config"]
    assert config["bf16"] is True and config["channels_last"] is True  # the fast CPU recipe, kept on --resume
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["scores"] is None and summary["steps"] == 2
    cli("sample", tmp_path / "face", "--n", 4, "--out", tmp_path / "f.npy", cwd=root)
    assert np.load(tmp_path / "f.npy").shape == (4, 64, 64, 3)


def test_nan_run_exits_with_message(root, tmp_path):
    r = cli("train", "--model", "mlp", "--steps", 200, "--lr-d", "1e9", "--lr-g", "1e9", "--batch-size", 16,
            "--out", tmp_path / "nan", cwd=root, check=False, fresh=True)
    assert r.returncode != 0
    assert "diverged" in r.stderr and "Traceback" not in r.stderr
    assert (tmp_path / "nan" / "trainer_state.pt").exists()


@pytest.mark.parametrize("native", [None, torch.bfloat16])
def test_train_says_when_bf16_is_not_native(root, tmp_path, monkeypatch, capsys, native):
    """--bf16 on a laptop without native bfloat16 trains in fp32, and says so; with it, nothing to say.
    In-process (not a subprocess like the others): the hardware check is monkeypatched."""
    from gan_core import cli as cli_module
    from gan_core import training
    monkeypatch.setattr(training, "fast_dtype", lambda device: native)
    monkeypatch.chdir(root)
    cli_module.main(["train", "--model", "dcgan", "--steps", "1", "--batch-size", "8", "--width", "4", "--bf16",
                     "--out", str(tmp_path / "run")])
    said = capsys.readouterr().err
    assert ("trains in fp32" in said) == (native is None)


def test_the_conditional_models_switches_and_the_real_label(root, tmp_path):
    """--no-d-twin / --no-g-class-norm turn the preset's parts off (AC-GAN's plain D and G, to compare),
    --real-label sets D's target, --no-channels-last PyTorch's default layout; a switch a model cannot take is
    refused in one line."""
    out = tmp_path / "plain"
    cli("train", "--model", "cdcgan", "--no-d-twin", "--no-g-class-norm", "--real-label", 0.9, "--no-channels-last",
        "--steps", 2, "--width", 8, "--batch-size", 16, "--no-score", "--out", out, cwd=root)
    cfg = torch.load(out / "trainer_state.pt", weights_only=True)["config"]
    assert (cfg["d_twin"], cfg["g_class_norm"], cfg["real_label"], cfg["channels_last"]) == (False, False, 0.9, False)
    assert json.loads((out / "discriminator" / "config.json").read_text())["twin"] is False
    assert json.loads((out / "config.json").read_text())["class_norm"] is False
    out = tmp_path / "preset"
    cli("train", "--model", "cdcgan", "--steps", 2, "--width", 8, "--batch-size", 16, "--no-score", "--out", out, cwd=root)
    cfg = torch.load(out / "trainer_state.pt", weights_only=True)["config"]
    assert (cfg["d_twin"], cfg["g_class_norm"], cfg["real_label"], cfg["channels_last"]) == (True, True, 1.0, True)
    r = cli("train", "--model", "dcgan", "--d-twin", "--steps", 2, "--out", tmp_path / "no", cwd=root, check=False)
    assert r.returncode != 0 and "needs a conditional model" in r.stderr and "Traceback" not in r.stderr


def test_d_norm_flag_sets_the_critics_norm(root, tmp_path):
    """--d-norm reaches the saved run config and D's own config.json; a model without the choice refuses it."""
    out = tmp_path / "ln"
    cli("train", "--model", "wgan", "--d-norm", "layer", "--steps", 2, "--width", 8, "--batch-size", 16, "--no-score",
        "--out", out, cwd=root)
    assert torch.load(out / "trainer_state.pt", weights_only=True)["config"]["d_norm"] == "layer"
    assert json.loads((out / "discriminator" / "config.json").read_text())["norm"] == "layer"
    r = cli("train", "--model", "mlp", "--d-norm", "batch", "--steps", 2, "--out", tmp_path / "no", cwd=root, check=False)
    assert r.returncode != 0 and "DCGAN family" in r.stderr and "Traceback" not in r.stderr


def test_each_switch_help_names_the_presets_that_have_it_on():
    """The registry says which presets turn a switch on; the help reads it there, so it cannot drift."""
    from gan_core import registry
    from gan_core.cli import SWITCH_FLAGS, build_parser
    train = next(a for a in build_parser()._subparsers._group_actions[0].choices.values() if a.prog.endswith("train"))
    helps = {a.dest: " ".join(a.help.split()) for a in train._actions if a.dest in SWITCH_FLAGS}
    for key in SWITCH_FLAGS:
        on = [n for n, spec in registry.SPECS.items() if spec.preset.get(key)]
        assert helps[key].endswith(f"(on in: {', '.join(on)})") and on, key
    assert "wgan" in helps["channels_last"] and "mlp" not in helps["channels_last"] and "wgan" not in helps["d_twin"]


def test_every_flag_of_a_run_setting_is_passed_to_the_preset():
    """A flag that names a TrainConfig field is an override of the preset: a new one cannot be parsed and then
    dropped (cmd_train passes what the parser recorded, not a list of its own). seed, balance and bf16 are passed
    by name: their flags have defaults of their own, not the preset's."""
    from dataclasses import fields
    from gan_core.cli import build_parser
    from gan_core.config import TrainConfig
    train = next(a for a in build_parser()._subparsers._group_actions[0].choices.values() if a.prog.endswith("train"))
    settings = train.parse_args(["--out", "x"]).run_settings
    named = {f.name for f in fields(TrainConfig)} - {"seed", "balance", "bf16", "model"}
    flagged = {a.dest for a in train._actions if a.dest in named}
    assert set(settings) == flagged and len(settings) == len(flagged)
    assert {"lr_cut_batch", "phase_steps", "d_twin", "z_dim", "ema"} <= flagged
    assert all(v is None for v in map(vars(train.parse_args(["--out", "x"])).get, settings))  # unset: the preset's


def test_equalized_lr_flag_reaches_the_run_and_a_wrong_choice_is_refused(root, tmp_path):
    """--equalized-lr both: the saved run config has it; the preset of progressive has D's (d); a wrong word is refused."""
    out = tmp_path / "eq"
    cli("train", "--model", "dcgan", "--equalized-lr", "both", "--steps", 2, "--width", 8, "--batch-size", 16,
        "--no-score", "--out", out, cwd=root)
    assert torch.load(out / "trainer_state.pt", weights_only=True)["config"]["equalized_lr"] == "both"
    r = cli("train", "--model", "dcgan", "--equalized-lr", "g", "--steps", 2, "--out", tmp_path / "no", cwd=root, check=False)
    assert r.returncode != 0 and "equalized-lr" in r.stderr and "Traceback" not in r.stderr


def test_the_parser_answers_without_importing_torch(root):
    """`--help` and a mistyped flag answer in a third of a second: the parser reads the registries, which import
    torch (seconds on a 2-core laptop) only when a command builds a model or reads data."""
    probe = ("import sys\nfrom gan_core.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in ('torch', 'huggingface_hub', 'gan_core.models', 'gan_core.data') if m in sys.modules))")
    for argv in (["--help"], ["train", "--help"], ["stylize", "--help"], ["train", "--steps", "many", "--out", "x"]):
        r = subprocess.run([sys.executable, "-c", probe, *argv], cwd=root, capture_output=True, text=True, timeout=60)
        assert r.stdout.strip().splitlines()[-1] == "[]", (argv, r.stdout[-300:], r.stderr[-300:])
    assert "0.02 for adam" in subprocess.run([sys.executable, "-m", "gan_core", "stylize", "--help"], cwd=root,
                                             capture_output=True, text=True, timeout=60).stdout


def test_resume_changes_are_the_flags_given_that_differ_and_a_fixed_one_stops_naming_each():
    """--resume's reading of the setting flags, alone: unset flags (None) and flags at the run's own value change
    nothing; a live setting that differs is returned; every one that would make another run is named, in flag order."""
    import argparse

    from gan_core.cli import _resume_changes
    from gan_core.config import TrainConfig
    saved = TrainConfig.preset("mlp", batch_size=32)

    def flags(**given):
        keys = ("z_dim", "width", "batch_size", "lr_g", "ema", "optimizer")
        return argparse.Namespace(run_settings=keys, **{k: given.get(k) for k in keys})

    assert _resume_changes(saved, flags()) == {}
    assert _resume_changes(saved, flags(width=saved.width, batch_size=32, z_dim=saved.z_dim)) == {}
    assert _resume_changes(saved, flags(batch_size=16, lr_g=saved.lr_g, ema=0.5)) == {"batch_size": 16, "ema": 0.5}
    with pytest.raises(SystemExit) as stop:
        _resume_changes(saved, flags(optimizer="sgd", width=8, batch_size=16, z_dim=saved.z_dim))
    assert str(stop.value) == (f"error: --resume: --width 8 (the run's is {saved.width}), --optimizer sgd (the run's is "
                               f"{saved.optimizer}) cannot change in a saved run; leave it out, or start a new run "
                               "in another --out")
