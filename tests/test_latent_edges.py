"""Latent maths at its edges: the bounds of every refusal, zero and tiny vectors, float64 paths, open
walks, the page's z-batch specs, and render's mode and dtype handling (what mutation testing found unasked)."""
import math

import pytest
import torch

from gan_core.latent import (SEED_DIMS, arithmetic, interpolate, latent_batch, lerp, mean_latent, random_walk, render,
                             seed_z, seeds_z, slerp, truncate)
from gan_core.models import DCGANGenerator64


def test_seed_z_accepts_up_to_seed_dims():
    assert seed_z(1, SEED_DIMS).shape == (SEED_DIMS,)
    with pytest.raises(ValueError, match=f"z_dim {SEED_DIMS + 1} > {SEED_DIMS}"):
        seed_z(1, SEED_DIMS + 1)


def test_two_steps_is_just_the_endpoints_and_fewer_is_refused():
    a, b = seed_z(0, 8), seed_z(1, 8)
    for mode in ("lerp", "slerp"):
        p = interpolate(a, b, 2, mode)
        assert p.shape == (2, 8) and torch.equal(p[0], a) and torch.equal(p[1], b)
    with pytest.raises(ValueError) as err:
        lerp(a, b, 1)
    assert err.value.code == "latent.bad_steps"


def test_interpolate_picks_the_mode_it_is_given():
    a, b = seed_z(0, 16), seed_z(1, 16)
    assert torch.equal(interpolate(a, b, 5, "lerp"), lerp(a, b, 5))
    assert torch.equal(interpolate(a, b, 5, "slerp"), slerp(a, b, 5))
    assert torch.equal(interpolate(a, b, 5), slerp(a, b, 5))  # slerp by default


def test_paths_are_computed_in_float64():
    """t = 1/3 is not exact in float32: float64 inputs get float64-exact frames."""
    a, b = seed_z(0, 16).double(), seed_z(1, 16).double()
    p = lerp(a, b, 4)
    assert p.dtype == torch.float64
    assert torch.allclose(p[1], a + (b - a) / 3, rtol=0, atol=1e-12)
    s = slerp(a, b, 4)
    want = (2 / 3) * a.norm() + (1 / 3) * b.norm()
    assert abs(s[1].norm() - want) < 1e-12


def test_slerp_falls_back_when_either_end_is_zero():
    a = seed_z(0, 20)
    to_zero = slerp(a, torch.zeros(20), 3)
    assert torch.isfinite(to_zero).all() and torch.allclose(to_zero[1], a / 2, atol=1e-6)
    both = slerp(torch.zeros(20), torch.zeros(20), 3)
    assert torch.equal(both, torch.zeros(3, 20))


def test_slerp_of_nearly_parallel_vectors_is_finite_and_on_the_line():
    a = seed_z(0, 20)
    b = a * 2 + 1e-9  # the same direction, twice as long: the great circle is undefined
    p = slerp(a, b, 5)
    assert torch.isfinite(p).all()
    direction = a / a.norm()
    assert torch.allclose(p / p.norm(dim=1, keepdim=True), direction.expand(5, -1), atol=1e-5)
    assert torch.allclose(p.norm(dim=1), torch.linspace(1, 2, 5) * a.norm(), rtol=1e-5)


def test_slerp_of_opposite_vectors_keeps_the_norm_and_passes_through_zero_without_nan():
    a = torch.tensor([3.0, 0.0])
    p = slerp(a, -a, 5)  # no great circle: lerp of the directions, each frame scaled to the norm
    assert torch.isfinite(p).all() and torch.equal(p[2], torch.zeros(2))
    assert torch.allclose(p[[0, 1, 3, 4]].norm(dim=1), torch.full((4,), 3.0))


def test_slerp_rounding_past_plus_or_minus_one_is_clamped():
    """For this z, float64 gives cos(a, a) = 1 + 2e-16 and cos(a, -a) = -1 - 2e-16: arccos of those is NaN."""
    a = seed_z(0, 100)
    assert torch.allclose(slerp(a, a, 4), a.expand(4, -1), atol=1e-5)
    assert torch.isfinite(slerp(a, -a, 4)).all()


def test_only_norms_below_eps_count_as_zero():
    """|a| = eps exactly still has a direction: the path turns along the arc, not the chord."""
    a, b = torch.tensor([1e-7, 0.0], dtype=torch.float64), torch.tensor([0.0, 1.0], dtype=torch.float64)
    for p in (slerp(a, b, 3), slerp(b, a, 3)):
        mid = p[1] / p[1].norm()
        assert torch.allclose(mid, torch.tensor([0.5 ** 0.5, 0.5 ** 0.5], dtype=torch.float64))


def test_slerp_between_close_directions_follows_the_arc():
    """Two directions 60 degrees apart: the midpoint is at 30 degrees from each, on the unit circle."""
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.5, math.sqrt(3) / 2])
    mid = slerp(a, b, 3)[1]
    assert torch.allclose(mid, torch.tensor([math.sqrt(3) / 2, 0.5]), atol=1e-6)


def test_walk_passes_through_its_keyframes_and_open_walks_end_at_the_last():
    w = random_walk(2, 32, legs=3, frames_per_leg=4)
    keys = seeds_z([2000, 2001, 2002], 32)  # keyframe k of walk s is seed s*1000 + k: walks never share one
    assert torch.equal(w[0], keys[0]) and torch.equal(w[4], keys[1]) and torch.equal(w[8], keys[2])
    assert torch.allclose(w[2], slerp(keys[0], keys[1], 5)[2])
    assert not torch.equal(random_walk(3, 32, legs=3, frames_per_leg=4)[0], w[0])
    opened = random_walk(2, 32, legs=3, frames_per_leg=4, loop=False)
    assert opened.shape == (9, 32)  # 2 legs of 4 frames, then the last keyframe itself
    assert torch.equal(opened[:8], w[:8]) and torch.equal(opened[-1], keys[2])
    assert random_walk(2, 32, legs=2, frames_per_leg=3, loop=False).shape == (4, 32)  # 1 leg + the end
    with pytest.raises(ValueError, match="^an open walk needs at least 2 keyframes$"):
        random_walk(2, 32, legs=1, loop=False)
    assert random_walk(2, 32).shape == (32, 32)  # by default 4 legs of 8 frames
    assert random_walk(2, 32, legs=1, frames_per_leg=3).shape == (3, 32)  # a loop of one keyframe: a still


def test_truncate_refuses_negative_psi_and_scales_in_between():
    z = seeds_z(range(3), 10)
    assert torch.allclose(truncate(z, 0.5), z / 2)
    for psi in (-0.1, 1.01):
        with pytest.raises(ValueError) as err:
            truncate(z, psi)
        assert err.value.code == "latent.bad_psi"


def test_mean_and_arithmetic_keep_the_norm_of_small_vectors_and_never_divide_by_zero():
    a, b = torch.tensor([0.3, 0.0]), torch.tensor([0.0, 0.3])
    m = mean_latent(torch.stack([a, b]))
    assert torch.allclose(m, torch.tensor([0.3, 0.3]) / math.sqrt(2))  # norm 0.3, like its parts
    assert torch.equal(mean_latent(torch.stack([a, -a])), torch.zeros(2))  # a zero mean stays zero, no NaN
    c = torch.tensor([0.0, 0.6])
    z = arithmetic(a, b, c)  # a - b + c = (0.3, 0.3), scaled to the parts' mean norm 0.4
    assert torch.allclose(z, torch.tensor([0.4, 0.4]) / math.sqrt(2))
    assert torch.allclose(arithmetic(a, b, c, keep_norm=False), torch.tensor([0.3, 0.3]))
    assert torch.equal(arithmetic(a, a, torch.zeros(2)), torch.zeros(2))


def test_latent_batch_builds_each_view_of_the_page():
    d = 12
    assert torch.equal(latent_batch(("seeds", (4, 5)), d), seeds_z([4, 5], d))
    a, b = seeds_z([1, 2], d)
    assert torch.equal(latent_batch(("path", 1, 2, 6, "lerp"), d), lerp(a, b, 6))
    assert torch.equal(latent_batch(("path", 1, 2, 6, "slerp"), d), slerp(a, b, 6))
    assert torch.equal(latent_batch(("walk", 3, 2, 5), d), random_walk(3, d, legs=2, frames_per_leg=5))
    assert torch.equal(latent_batch(("mean", (1, 2, 3)), d), mean_latent(seeds_z([1, 2, 3], d))[None])
    x, y, z = seeds_z([7, 8, 9], d)
    assert torch.equal(latent_batch(("arith", 7, 8, 9), d), arithmetic(x, y, z)[None])
    with pytest.raises(ValueError, match="unknown latent spec"):
        latent_batch(("spiral", 1), d)


def test_render_restores_training_mode_and_takes_float64_noise():
    G = DCGANGenerator64(width=8)
    G.train()
    z = seeds_z(range(3), 100)
    out = render(G, z.double(), batch=2)
    assert G.training  # left as it was found
    assert (out == render(G.eval(), z)).all()  # float64 noise is fed as float32, in eval mode
    assert not G.training
