"""python -m gan_core stylize: AdaIN and a few Gatys steps end to end, and a clear error for a bad file."""
import json

import pytest
from PIL import Image

from gan_core.cli import main

CONTENT, STYLE = "assets/style/content/chelsea.jpg", "assets/style/style/brick.jpg"


def run(root, capsys, *args):
    main(["stylize", str(root / CONTENT), str(root / STYLE), *args])
    captured = capsys.readouterr()
    return json.loads(captured.out.strip().splitlines()[-1]), captured.err


def test_adain(root, tmp_path, capsys, monkeypatch):
    import time

    from gan_core import pipelines
    timed, stylize = [], pipelines.stylize

    def measured(*a, **kw):  # the CLI's wall_seconds is the stylize call: time it from outside
        t0 = time.perf_counter()
        try:
            return stylize(*a, **kw)
        finally:
            timed.append(time.perf_counter() - t0)
    monkeypatch.setattr(pipelines, "stylize", measured)
    out = tmp_path / "a.png"
    summary, _ = run(root, capsys, "--method", "adain", "--size", "64", "--out", str(out), "--alpha", "0.7")
    assert Image.open(out).size == (64, 43)
    assert summary["method"] == "adain" and summary["shape"] == [43, 64, 3] and summary["out"] == str(out)
    assert len(timed) == 1 and summary["wall_seconds"] == pytest.approx(timed[0], abs=0.006)  # rounded to 0.01 s


def test_gatys_prints_losses(root, tmp_path, capsys):
    out = tmp_path / "g.jpg"
    summary, err = run(root, capsys, "--method", "gatys", "--size", "40", "--steps", "4", "--every", "2",
                       "--out", str(out))
    assert summary["steps"] == 4 and summary["style_loss"] > 0 and Image.open(out).size == (40, 27)
    assert err.count("style ") == 2 and "total" in err


def test_bad_image_is_a_clear_error(root, tmp_path, capsys):
    bad = tmp_path / "empty.png"
    bad.write_bytes(b"")
    with pytest.raises(SystemExit, match="content image .*empty"):
        main(["stylize", str(bad), str(root / STYLE), "--out", str(tmp_path / "x.png")])
    with pytest.raises(SystemExit, match="--out"):
        main(["stylize", str(root / CONTENT), str(root / STYLE), "--out", str(tmp_path / "x.bmp")])


def test_adain_preserve_color_keeps_the_contents_colours(root, tmp_path, capsys):
    """--preserve-color changes the picture, towards the content's mean colour and colour covariance."""
    import numpy as np
    import torch

    from gan_core.style import to_tensor
    from gan_devkit.colour_stats import colour_gaps
    style = str(root / "assets/style/style/hubble_deep_field.jpg")
    paths = {}
    for name, flag in (("plain", []), ("kept", ["--preserve-color"])):
        paths[name] = tmp_path / f"{name}.png"
        main(["stylize", str(root / CONTENT), style, "--method", "adain", "--size", "64", "--out", str(paths[name]), *flag])
        capsys.readouterr()
    plain, kept = (to_tensor(Image.open(paths[k]).convert("RGB")) for k in ("plain", "kept"))
    assert not np.array_equal(np.asarray(Image.open(paths["plain"])), np.asarray(Image.open(paths["kept"])))
    content = torch.nn.functional.interpolate(to_tensor(Image.open(root / CONTENT).convert("RGB")), size=plain.shape[2:],
                                              mode="area")
    (mean_plain, cov_plain), (mean_kept, cov_kept) = colour_gaps(plain, content), colour_gaps(kept, content)
    assert mean_kept < 0.5 * mean_plain, (mean_kept, mean_plain)
    assert cov_kept < 0.85 * cov_plain, (cov_kept, cov_plain)
