"""The dataset registry (gan_core.datasets): bundled files, sizes and colours, cards, and the CLI's --data."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_core import datasets, registry
from gan_core.data import DataFilesMissing
from gan_core.datasets import DATASETS, NAMES, is_dataset, load_dataset
from gan_core.export import training_card
from gan_core.pipelines import load_training_data
from gan_core.training import TrainConfig, Trainer
from gan_devkit.archives import emoji_zip
from gan_devkit.cli_run import cli

ROOT = Path(__file__).resolve().parent.parent


def test_fashion_is_a_balanced_subset_of_real_clothes():
    x, y = DATASETS["fashion"].read()  # the file as stored (load_dataset's cache may hold it from another test)
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert np.bincount(y, minlength=10).tolist() == [1000] * 10
    # trousers (1) are tall and narrow, bags (8) wide: the class means differ where a real dataset's would
    trousers, bags = x[y == 1].mean(0), x[y == 8].mean(0)
    assert trousers[:, :6].mean() < 30 and bags[:, :6].mean() > trousers[:, :6].mean() + 20


def test_demo_emoji_are_distinct_colour_pictures():
    x, labels = load_dataset("demo")
    assert x.shape == (562, 64, 64, 3) and labels is None
    assert (x[:, 0, 0] == 255).all(), "white background in the corners"
    flat = x.reshape(len(x), -1)
    assert len(np.unique(flat, axis=0)) == len(x), "no two emoji alike (a bad sprite-sheet cut would repeat tiles)"
    assert (x[:, 16:48, 16:48] < 235).any(axis=(1, 2, 3)).all(), "each tile holds a drawing in its centre"


def test_emoji_tiles_are_cut_from_the_sheet_row_by_row():
    from PIL import Image
    from gan_core.datasets import DATA_DIR
    with Image.open(DATA_DIR / "emoji" / "emoji-64.png") as im:
        sheet = np.asarray(im.convert("RGB"))
    cols = sheet.shape[1] // 64
    x, _ = DATASETS["demo"].read()
    assert len(x) == len((DATA_DIR / "emoji" / "codepoints.txt").read_text().split()) == 562  # one per codepoint
    for i in (0, 1, cols - 1, cols, cols + 1, len(x) - 1):  # a row's first and last, the next row's first
        row, col = divmod(i, cols)
        assert np.array_equal(x[i], sheet[row * 64:(row + 1) * 64, col * 64:(col + 1) * 64]), i


def test_mnist_is_the_training_split_and_every_name_is_known_and_labelled():
    x, y = DATASETS["mnist"].read()
    assert x.shape == (60000, 28, 28) and y.shape == (60000,)  # the training split, not the 10k test digits
    assert all(is_dataset(name) for name in NAMES) and not is_dataset("cifar") and not is_dataset("")
    for lang in ("en", "he", "uk", "fa"):  # the page's data picker names each one in every language
        table = json.loads((ROOT / "locales" / f"{lang}.json").read_text(encoding="utf-8"))
        for name in NAMES:
            assert DATASETS[name].locale_key == f"data.source.{name}" and DATASETS[name].locale_key in table, lang


@pytest.mark.parametrize("name, file, script", [("fashion", "fashion-mnist/train.npz", "scripts/convert_fashion_mnist.py"),
                                                ("demo", "emoji/emoji-64.png", "scripts/make_demo_emoji.py")])
def test_a_missing_dataset_file_names_itself_and_the_script_that_makes_it(tmp_path, monkeypatch, name, file, script):
    monkeypatch.setattr(datasets, "DATA_DIR", tmp_path)
    with pytest.raises(DataFilesMissing) as err:
        DATASETS[name].read()
    assert err.value.code == "data.dataset_missing"
    assert err.value.params == {"name": name, "path": str(tmp_path / file), "script": script}


@pytest.mark.parametrize("name,size,channels", [("demo", 32, 1), ("demo", 28, 3), ("fashion", 64, 3)])
def test_datasets_come_at_any_size_and_colour(name, size, channels):
    x, _ = load_dataset(name, size, channels)
    assert x.shape[1:] == ((size, size) if channels == 1 else (size, size, 3))
    assert not x.flags.writeable, "cached arrays are shared read-only between sessions"


def test_training_data_kinds_and_labels():
    mnist = load_training_data("mnist")
    assert mnist.kind == "digits" and mnist.labels is not None and mnist.images.shape == (60000, 1, 28, 28)
    fashion = load_training_data("fashion")
    assert fashion.kind == "images" and fashion.labels is None  # classes are not digits: no AC-GAN on them
    demo = load_training_data("demo", 32, 3)
    assert demo.shape == (32, 3) and demo.images.min() >= -1 and demo.images.max() <= 1


def test_cards_name_the_data_and_its_licence():
    cfg = TrainConfig.preset("dcgan")
    for name, licence in (("fashion", "mit"), ("demo", "apache-2.0"), ("mnist", "cc-by-sa-3.0")):
        card = training_card(cfg, 10, 1.0, "cpu", name)
        assert f"\nlicense: {licence}\n" in card, name
        assert name == "mnist" or f"- Data: {DATASETS[name].card}." in card  # MNIST's line: test_export
    assert "license:" not in training_card(cfg, 10, 1.0, "cpu", "my-photos.zip")  # unknown data: no claim


def test_image_models_are_offered_for_pictures_and_each_trains_at_each_size():
    images = registry.offered("train", data="images")
    assert {"dcgan", "wgan-gp", "face-exercise"} <= set(images)
    assert not {"cdcgan", "mlp", "slides"} & set(images), "digit-only models are not offered for pictures"
    for name in images:
        spec = registry.get(name)
        for size in spec.sizes:
            data = load_training_data("demo", size, 3)
            cfg = TrainConfig.preset(name, batch_size=8, width=8, n_critic=1)
            tr = Trainer(cfg, data.images[:32], device="cpu")
            m = tr.step(1)[-1]
            assert np.isfinite(m["d_loss"]) and tr.fixed_samples().shape[1:] == (3, size, size)


def test_cli_trains_on_a_zip_with_the_upload_rules(root, tmp_path):
    (tmp_path / "mine.zip").write_bytes(emoji_zip(12, extra=(("../evil.png", b"\x89PNG"), ("readme.txt", b"hi"))))
    r = cli("train", "--model", "dcgan", "--data", tmp_path / "mine.zip", "--img-size", 28, "--channels", 3,
            "--steps", 2, "--batch-size", 4, "--width", 4, "--out", tmp_path / "run", cwd=root)
    assert "loaded 12 images" in r.stderr and "skipped 2" in r.stderr
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["steps"] == 2 and summary["scores"] is None
    cli("sample", tmp_path / "run", "--n", 3, "--out", tmp_path / "s.npy", cwd=root)
    assert np.load(tmp_path / "s.npy").shape == (3, 28, 28, 3)


def test_cli_bundled_datasets_and_refusals(root, tmp_path):
    r = cli("train", "--model", "face-exercise", "--data", "demo", "--img-size", 32, "--steps", 1, "--batch-size", 4,
            "--width", 4, "--out", tmp_path / "emoji", cwd=root)
    assert json.loads(r.stdout.strip().splitlines()[-1])["scores"] is None
    assert "apache-2.0" in (tmp_path / "emoji" / "README.md").read_text()
    r = cli("train", "--model", "dcgan", "--data", "fashion", "--steps", 1, "--batch-size", 4, "--width", 4,
            "--out", tmp_path / "fashion", cwd=root)
    assert json.loads(r.stdout.strip().splitlines()[-1])["scores"] is None, "the digit classifier never scores clothes"
    (tmp_path / "bomb.zip").write_bytes(b"PK\x03\x04 not really a zip")
    r = cli("train", "--data", tmp_path / "bomb.zip", "--steps", 1, "--out", tmp_path / "o", cwd=root, check=False)
    assert r.returncode != 0 and "is not a zip archive" in r.stderr and "Traceback" not in r.stderr
    r = cli("train", "--data", "cifar", "--steps", 1, "--out", tmp_path / "o", cwd=root, check=False)
    assert r.returncode != 0 and "neither a bundled dataset (mnist, fashion, demo)" in r.stderr


def test_the_small_dcgan_at_32_px_saves_and_loads_back(tmp_path):
    from gan_core.hub import load_model, save_model
    cfg = TrainConfig.preset("dcgan", width=8)
    G, D = registry.get("dcgan").build(cfg, channels=3, img_size=32)
    assert G.generate(2, seed=0).shape == (2, 3, 32, 32) and D(G.generate(2, seed=0)).shape == (2,)
    save_model(G, tmp_path / "g")
    again = load_model(tmp_path / "g")
    assert again.img_size == 32 and torch.equal(again.generate(3, seed=1), G.eval().generate(3, seed=1))
