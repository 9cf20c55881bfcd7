"""bench/face_detect.py: an independent face detector (OpenCV's Viola-Jones cascades, trained on
photographs) finds faces in the bundled generators' samples and none in images that are not faces."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from gan_core.data import to_uint8
from gan_core.hub import load_model
from gan_devkit.face_bench import samples
from gan_devkit.face_detect import controls, detect, tile_shuffle


@pytest.fixture(scope="module")
def dcgan_images(root):
    return to_uint8(samples(load_model(root / "checkpoints/face-dcgan"), 300, 20_000))


@pytest.fixture(scope="module")
def teacher(dcgan_images):
    return detect(dcgan_images)


def test_the_teachers_samples_are_faces_and_non_faces_are_not(dcgan_images, teacher):
    assert teacher["face"] > 0.5 and teacher["face_both_eyes"] > 0.25, teacher
    for name, images in controls(dcgan_images[:100], 100, seed=1).items():
        rates = detect(images)
        assert rates["face"] < 0.1 and rates["face_both_eyes"] == 0, (name, rates)


def test_bundled_wgan_gp_samples_are_faces_about_as_often_as_its_teachers(root, teacher):
    """The face-WGAN-GP's quality bar: a detector that never saw a GAN finds a face with both eyes
    in its samples at least 80% as often as in the DCGAN's (1.0 when bundled; width 16 scored 0.74)."""
    student = detect(to_uint8(samples(load_model(root / "checkpoints/face-wgan-gp"), 300, 20_000)))
    assert student["face"] > 0.5
    assert student["face_both_eyes"] >= 0.8 * teacher["face_both_eyes"], (student, teacher)


def test_tile_shuffle_keeps_the_pixels_and_breaks_the_layout(dcgan_images):
    images = dcgan_images[:4]
    shuffled = tile_shuffle(images, tile=8, seed=0)
    assert shuffled.shape == images.shape and shuffled.dtype == np.uint8
    for a, b in zip(images, shuffled):
        assert sorted(a.reshape(-1, 3).tolist()) == sorted(b.reshape(-1, 3).tolist())
        assert not np.array_equal(a, b)


def test_bench_prints_rates_ratios_and_controls_as_json(root):
    r = subprocess.run([sys.executable, "bench/face_detect.py", "--n", "24", "--models",
                        "dcgan=checkpoints/face-dcgan", "wgan-gp=checkpoints/face-wgan-gp"],
                       cwd=root, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["baseline"] == "dcgan" and out["ratio_vs_baseline"]["dcgan"] == 1.0
    assert out["controls"] == ["noise", "untrained G", "shuffled DCGAN tiles"]
    assert set(out["rates"]) == {"dcgan", "wgan-gp", *out["controls"]}
    assert out["rates"]["noise"]["face_both_eyes"] == 0 and out["rates"]["dcgan"]["face"] > 0
    assert "both eyes" in r.stderr  # the table


def test_bench_says_how_to_get_opencv_when_it_is_missing(root, tmp_path):
    blocker = tmp_path / "cv2"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('no OpenCV here')\n")
    r = subprocess.run([sys.executable, "bench/face_detect.py", "--n", "4"], cwd=root, capture_output=True,
                       text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert r.returncode == 1 and "pip install opencv-python-headless" in r.stderr and "Traceback" not in r.stderr


def test_bench_names_a_model_that_will_not_load(root, tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"not safetensors")
    (tmp_path / "config.json").write_text("{}")
    for src in (tmp_path, tmp_path / "missing"):
        r = subprocess.run([sys.executable, "bench/face_detect.py", "--n", "4", "--models", f"x={src}"],
                           cwd=root, capture_output=True, text=True, timeout=120)
        assert r.returncode == 1 and "--models x:" in r.stderr and "Traceback" not in r.stderr, r.stderr
