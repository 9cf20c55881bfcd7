import warnings

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


# What the mutation run asked (docs/testing.md): the crop's centre, the range's ends, the folder's defaults,
# names and shards.

def test_to_uint8_clamps_what_a_generator_overshoots():
    x = torch.tensor([-3.0, -1.0, 0.0, 1.0, 3.0]).view(1, 1, 1, 5)
    assert data.to_uint8(x).tolist() == [[[0, 0, 128, 255, 255]]]


def test_mnist_tensor_is_the_training_split_by_default():
    assert data.mnist_tensor().shape == (60000, 1, 28, 28)


@pytest.mark.parametrize("wide", [True, False])
def test_square_array_keeps_the_centre_of_an_odd_margin(wide):
    # 63 x 20, every column its own shade: the centred square is columns 21-40 exactly (43 px cut, 21 on the left)
    a = np.zeros((20, 63, 3), np.uint8)
    a[..., 0] = np.arange(63) * 4
    a[..., 1] = np.arange(20)[:, None] * 12
    if not wide:
        a = a.transpose(1, 0, 2).copy()
    centre = a[:, 21:41] if wide else a[21:41]
    im = Image.fromarray(a)
    out = data.square_array(im, 20, 3)
    assert out.dtype == np.uint8 and np.array_equal(out, centre)
    assert np.array_equal(data.square_array(im, 20, 1), np.asarray(Image.fromarray(centre).convert("L")))


def test_pictures_are_decoded_at_four_times_the_size_and_never_under_256(tmp_path, monkeypatch):
    assert data.decode_side(16) == 256 and data.decode_side(64) == 256 and data.decode_side(100) == 400
    Image.new("RGB", (900, 600), (10, 20, 30)).save(tmp_path / "photo.jpg")
    asked = []
    real = data.load_image

    def spy(path, **kw):
        asked.append(kw.get("max_side"))
        return real(path, **kw)

    monkeypatch.setattr(data, "load_image", spy)
    data.load_image_folder(tmp_path, size=100)
    assert asked == [400]  # JPEG's reduced decode: a phone photo is read at a fraction of its size


def test_image_folder_defaults_shards_and_what_its_refusals_name(tmp_path):
    for i in range(5):
        Image.new("RGB", (40, 40), (i * 40, 0, 0)).save(tmp_path / f"{i}.png")
    f = data.load_image_folder(tmp_path)
    assert f.tensor.shape == (5, 3, 64, 64)  # 64 px colour unless asked
    part = data.load_image_folder(tmp_path, size=8, shard=(1, 2))  # rank 1 of 2: the sorted files 1 and 3
    assert [p.split("/")[-1] for p in part.paths] == ["1.png", "3.png"]
    assert [p.split("/")[-1] for p in data.load_image_folder(tmp_path, size=8, shard=(0, 3)).paths] == ["0.png", "3.png"]
    missing = tmp_path / "missing"
    with pytest.raises(data.DataFolderNotFound) as err:
        data.load_image_folder(missing)
    assert err.value.params == {"root": str(missing)}
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.png").write_bytes(b"\x89PNG garbage")
    with pytest.raises(data.DataError) as err:
        data.load_image_folder(bad)
    assert err.value.params == {"root": str(bad), "skipped": 1}


def test_the_skip_warning_points_at_the_caller(tmp_path):
    Image.new("RGB", (40, 40)).save(tmp_path / "ok.png")
    (tmp_path / "bad.png").write_bytes(b"")
    with pytest.warns(UserWarning, match="skipped 1") as caught:
        data.load_image_folder(tmp_path, size=8)
    assert caught[0].filename != data.__file__  # the caller's line (where the folder was asked for), not data.py's
    with warnings.catch_warnings():  # warn=False: the caller says it (the pipelines, in the page's language)
        warnings.simplefilter("error")
        assert len(data.load_image_folder(tmp_path, size=8, warn=False).skipped) == 1
