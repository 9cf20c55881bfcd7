"""Latent maths (slerp endpoints and norms, lerp, walks, truncation, arithmetic) and the CLI interpolate."""
import json
import math

import pytest
import torch
from PIL import Image

from gan_core import cli
from gan_core.latent import (arithmetic, interpolate, lerp, mean_latent, random_walk, render, seed_z, seeds_z, slerp,
                             truncate)
from gan_core.models import DCGANGenerator64


def test_seed_z_is_deterministic_and_shared_across_z_sizes():
    assert torch.equal(seed_z(3, 100), seed_z(3, 100))
    assert torch.equal(seed_z(3, 64), seed_z(3, 100)[:64])  # same noise, each model's own z size
    assert not torch.equal(seed_z(3, 100), seed_z(4, 100))
    assert seeds_z([1, 2, 3], 10).shape == (3, 10)


def test_lerp_is_a_straight_line_with_exact_endpoints():
    a, b = seed_z(0, 100), seed_z(1, 100)
    p = lerp(a, b, 5)
    assert torch.equal(p[0], a) and torch.equal(p[-1], b)
    assert torch.allclose(p[2], (a + b) / 2, atol=1e-6)
    assert torch.allclose(p[1:] - p[:-1], ((b - a) / 4).expand(4, -1), atol=1e-5)


def test_slerp_endpoints_and_norms():
    a, b = seed_z(0, 100), seed_z(1, 100)
    p = slerp(a, b, 9)
    assert torch.equal(p[0], a) and torch.equal(p[-1], b)
    t = torch.linspace(0, 1, 9)
    want = (1 - t) * a.norm() + t * b.norm()  # the norm moves linearly: on the shell all the way
    assert torch.allclose(p.norm(dim=1), want, rtol=1e-5)
    # equal norms: every frame on the same sphere, and equal angles between frames
    a2, b2 = a / a.norm() * 10, b / b.norm() * 10
    q = slerp(a2, b2, 7)
    assert torch.allclose(q.norm(dim=1), torch.full((7,), 10.0), rtol=1e-5)
    cos = torch.nn.functional.cosine_similarity(q[1:], q[:-1])
    assert torch.allclose(cos, cos[0].expand_as(cos), atol=1e-5)
    # lerp's midpoint falls inside the shell, slerp's does not
    assert lerp(a2, b2, 3)[1].norm() < 0.8 * 10 < slerp(a2, b2, 3)[1].norm()


def test_slerp_degenerate_cases():
    a = seed_z(0, 20)
    same = slerp(a, a, 4)
    assert torch.allclose(same, a.expand(4, -1), atol=1e-5)
    opposite = slerp(a, -a, 3)
    assert torch.isfinite(opposite).all()
    zero = slerp(torch.zeros(20), a, 3)
    assert torch.allclose(zero[1], a / 2, atol=1e-6)
    with pytest.raises(ValueError) as err:
        interpolate(a, a, 1)
    assert err.value.code == "latent.bad_steps" and err.value.params == {"steps": 1}
    with pytest.raises(ValueError) as err:
        interpolate(a, a, 4, "cubic")
    assert err.value.code == "latent.bad_mode" and "'cubic'" in str(err.value)


def test_random_walk_loops_on_the_shell():
    w = random_walk(5, 100, legs=3, frames_per_leg=4)
    assert w.shape == (12, 100)
    norms = w.norm(dim=1)
    assert norms.min() > 0.8 * math.sqrt(100) and norms.max() < 1.2 * math.sqrt(100)
    assert torch.equal(w[0], random_walk(5, 100, legs=3, frames_per_leg=4)[0])
    # the frame after the last is the first again: steps between consecutive frames all similar
    steps = (torch.cat([w[1:], w[:1]]) - w).norm(dim=1)
    assert steps.max() < 2 * steps.min()


def test_truncation_mean_and_arithmetic():
    z = seeds_z(range(4), 100)
    assert torch.equal(truncate(z, 1.0), z) and torch.equal(truncate(z, 0.0), torch.zeros_like(z))
    with pytest.raises(ValueError) as err:
        truncate(z, 1.5)
    assert err.value.code == "latent.bad_psi" and err.value.params == {"psi": 1.5}
    m = mean_latent(z)
    assert torch.allclose(m.norm(), z.norm(dim=1).mean())
    assert torch.allclose(m / m.norm(), z.mean(0) / z.mean(0).norm())
    assert torch.allclose(mean_latent(z, keep_norm=False), z.mean(0))
    a, b, c = z[:3]
    assert torch.allclose(arithmetic(a, b, c, keep_norm=False), a - b + c)


def test_render_batches_match_one_call():
    G = DCGANGenerator64(width=8).eval()
    z = seeds_z(range(5), 100)
    out = render(G, z, batch=2)
    assert out.shape == (5, 64, 64, 3) and out.dtype.name == "uint8"
    assert (out == render(G, z)).all()


@pytest.mark.parametrize("out_name,mode", [("strip.png", "slerp"), ("anim.gif", "lerp")])
def test_cli_interpolate(tmp_path, capsys, root, out_name, mode):
    out = tmp_path / out_name
    cli.main(["interpolate", str(root / "checkpoints" / "face-dcgan"), "--seed-a", "3", "--seed-b", "7",
              "--frames", "5", "--mode", mode, "--scale", "1", "--out", str(out)])
    info = json.loads(capsys.readouterr().out)
    assert info["frames"] == 5 and info["mode"] == mode
    im = Image.open(out)
    if out.suffix == ".png":
        assert im.size == (5 * 66 + 2, 68)
    else:
        assert im.n_frames == 5


def test_cli_interpolate_rejects_bad_args(tmp_path, root):
    src = str(root / "checkpoints" / "face-dcgan")
    with pytest.raises(SystemExit, match="must end in"):
        cli.main(["interpolate", src, "--out", str(tmp_path / "x.jpg")])
    with pytest.raises(SystemExit, match="at least 2"):
        cli.main(["interpolate", src, "--frames", "1", "--out", str(tmp_path / "x.png")])
    with pytest.raises(SystemExit, match="error"):
        cli.main(["interpolate", str(tmp_path / "missing"), "--out", str(tmp_path / "x.png")])
