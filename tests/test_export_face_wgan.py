"""scripts/export_face_wgan.py: a run folder becomes a loadable checkpoint whose card says how it was made."""
import json
import subprocess
import sys

import numpy as np
from PIL import Image

from gan_core.config import TrainConfig
from gan_core.hub import load_model
from gan_devkit.cli_run import cli


def test_export_writes_generator_and_card(root, tmp_path):
    faces = tmp_path / "faces"
    faces.mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):
        Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(faces / f"{i}.png")
    run, out = tmp_path / "run", tmp_path / "ckpt"
    cli("train", "--model", "wgan-gp", "--data", faces, "--img-size", "64", "--steps", "2", "--batch-size", "4", "--width", "4",
        "--n-critic", "1", "--ema", "0.9", "--beta1", "0.25", "--channels-last", "--out", run, cwd=root)
    fid = tmp_path / "fid.json"
    fid.write_text(json.dumps({"n": 300, "reference": "ref", "fid": {"dcgan": 52.9, "wgan-gp": 99.0},
                              "precision": {"dcgan": 0.7, "wgan-gp": 0.38}, "recall": {"dcgan": 0.79, "wgan-gp": 0.05}}))
    detect = tmp_path / "detect.json"
    detect.write_text(json.dumps({"n": 300, "rates": {"dcgan": {"face": 0.69, "face_both_eyes": 0.37},
                                                      "noise": {"face": 0.0, "face_both_eyes": 0.0}},
                                  "controls": ["noise"]}))
    notes = tmp_path / "notes.md"
    notes.write_text("## Earlier runs\nWidth 16 plateaued.\n")
    subprocess.run([sys.executable, "scripts/export_face_wgan.py", run, "--out", out, "--fid", fid, "--detect", detect, "--notes", notes,
                    "--status", "Faces.", "--run-name", "runs/w32"], cwd=root, check=True, capture_output=True, timeout=300)
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "config.json", "model.safetensors"]  # no pickle
    assert load_model(out).generate(2, seed=0).shape == (2, 3, 64, 64)
    card = (out / "README.md").read_text()
    # every setting the run took from its preset is spelled out: the preset may have changed since
    preset = TrainConfig.preset("wgan-gp")
    assert (f"--width 4 --batch-size 4 --n-critic 1 --gp-every {preset.gp_every} --ema 0.9 --lr-g {preset.lr_g} "
            f"--lr-d {preset.lr_d} --beta1 0.25 --beta2 {preset.beta2} --channels-last") in card
    assert "--out runs/w32 --resume" in card  # the run's own folder, not the snapshot exported from
    assert "Steps**: 2 generator updates" in card and "wgan-gp 99.0" in card and "wgan-gp 0.38 / 0.05" in card
    assert "face with both eyes in this share of 300 samples: dcgan 0.69 / 0.37; non-face controls: noise 0.00 / 0.00." in card
    assert card.rstrip().endswith("Width 16 plateaued.")


def test_export_refuses_a_folder_that_is_not_a_run(root, tmp_path):
    r = subprocess.run([sys.executable, "scripts/export_face_wgan.py", tmp_path, "--out", tmp_path / "ckpt",
                        "--status", "x"], cwd=root, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "no trainer_state.pt" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "ckpt").exists()
