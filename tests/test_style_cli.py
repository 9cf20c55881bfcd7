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


def test_adain(root, tmp_path, capsys):
    out = tmp_path / "a.png"
    summary, _ = run(root, capsys, "--method", "adain", "--size", "64", "--out", str(out), "--alpha", "0.7")
    assert Image.open(out).size == (64, 43) and summary["wall_seconds"] >= 0


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
