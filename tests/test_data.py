import numpy as np
import pytest
import torch
from PIL import Image

from gan_core import data

TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_full_mnist_offline():
    x, y = data.load_mnist("train")
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8 and y.shape == (60000,)
    xt, yt = data.load_mnist("test")
    assert xt.shape == (10000, 28, 28)
    assert np.bincount(yt, minlength=10).tolist() == TEST_COUNTS
    assert sorted(set(y.tolist())) == list(range(10))
    assert x.max() == 255 and x.min() == 0


def test_mnist_range_and_roundtrip():
    t = data.mnist_tensor("test")
    assert t.shape == (10000, 1, 28, 28) and t.min() == -1 and t.max() == 1
    assert np.array_equal(data.to_uint8(t[:5]), data.load_mnist("test")[0][:5])


def test_unknown_split():
    with pytest.raises(ValueError, match="split"):
        data.load_mnist("valid")


def test_missing_mnist_is_a_file_not_found_with_a_code(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "MNIST_DIR", tmp_path)
    data.load_mnist.cache_clear()
    try:
        with pytest.raises(FileNotFoundError, match="convert_mnist") as err:
            data.load_mnist("test")
        assert err.value.code == "data.mnist_missing" and err.value.params["folder"] == str(tmp_path)
    finally:
        data.load_mnist.cache_clear()


def _write_images(root):
    (root / "a" / "b").mkdir(parents=True)
    Image.new("RGB", (80, 40), (255, 0, 0)).save(root / "a" / "wide.png")
    Image.new("L", (30, 30), 128).save(root / "a" / "b" / "grey.jpg")
    Image.new("RGBA", (50, 70), (0, 0, 255, 128)).save(root / "rgba.png")
    Image.new("P", (20, 20)).save(root / "palette.gif")
    (root / "empty.png").write_bytes(b"")
    (root / "text.jpg").write_text("not an image")
    good = root / "trunc.png"
    Image.new("RGB", (64, 64), (1, 2, 3)).save(good)
    good.write_bytes(good.read_bytes()[:40])  # truncated
    (root / "notes.txt").write_text("ignored: not an image extension")


def test_image_folder_skips_and_reports_bad_files(tmp_path):
    _write_images(tmp_path)
    with pytest.warns(UserWarning, match="skipped 3"):
        f = data.load_image_folder(tmp_path, size=16, channels=3)
    assert f.tensor.shape == (4, 3, 16, 16)
    assert len(f.paths) == 4 and len(f.skipped) == 3
    assert {p.split("/")[-1] for p, _ in f.skipped} == {"empty.png", "text.jpg", "trunc.png"}
    red = f.tensor[f.paths.index(str(tmp_path / "a" / "wide.png"))]
    assert torch.allclose(red[0], torch.ones(16, 16)) and torch.allclose(red[1], -torch.ones(16, 16))


def test_image_folder_grey_and_limit(tmp_path):
    _write_images(tmp_path)
    f = data.load_image_folder(tmp_path, size=8, channels=1, limit=2)  # stops before any bad file
    assert f.tensor.shape == (2, 1, 8, 8) and not f.skipped


def test_image_folder_errors(tmp_path):
    with pytest.raises(NotADirectoryError) as err:  # still the built-in type callers catch
        data.load_image_folder(tmp_path / "missing")
    assert err.value.code == "data.folder_not_found" and "image folder not found" in str(err.value)
    (tmp_path / "bad.png").write_bytes(b"\x89PNG garbage")
    with pytest.raises(ValueError, match="no readable images") as err:
        data.load_image_folder(tmp_path)
    assert err.value.code == "data.no_images" and err.value.params["skipped"] == 1
