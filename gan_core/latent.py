"""Latent-space maths: seeds -> z, lerp and slerp paths, random walks, truncation, arithmetic.

Why slerp: z ~ N(0, I) in d dimensions lies almost surely near the sphere of radius sqrt(d)
(d=100: |z| = 10 +- 0.7). A straight line between two such points cuts through the inside of the
ball (the midpoint of two independent z has norm ~ sqrt(d/2) ~ 7), where the generator never saw
training noise, so lerp's middle frames come out washed out and average-looking. Slerp turns the
direction along the great circle and keeps the norm on the shell.

All functions work on float tensors of shape (..., z_dim) and never touch a model; `render`
runs a generator on a batch of z in one call (one batch is the fast path, see bench/).
"""
import torch

from .data import to_uint8
from .messages import GanError

# Seeds draw this many numbers and models take the first z_dim: two models with different z
# sizes then see the same noise in their shared coordinates.
SEED_DIMS = 512


class LatentError(GanError, ValueError):
    """A "latent.*" refusal a person can act on (psi, steps, mode); also a ValueError, as before."""


def seed_z(seed: int, z_dim: int) -> torch.Tensor:
    """The z of a seed: (z_dim,), the same for every model with that z size."""
    if z_dim > SEED_DIMS:
        raise ValueError(f"z_dim {z_dim} > {SEED_DIMS}")
    return torch.randn(SEED_DIMS, generator=torch.Generator().manual_seed(int(seed)))[:z_dim]


def seeds_z(seeds, z_dim: int) -> torch.Tensor:
    """(len(seeds), z_dim): one seed_z per seed."""
    return torch.stack([seed_z(s, z_dim) for s in seeds])


def _ts(steps: int) -> torch.Tensor:
    if steps < 2:
        raise LatentError("latent.bad_steps", steps=steps)
    return torch.linspace(0.0, 1.0, steps, dtype=torch.float64)


def lerp(a: torch.Tensor, b: torch.Tensor, steps: int) -> torch.Tensor:
    """(steps, d): a + t (b - a) for t evenly spaced in [0, 1], endpoints exact."""
    t = _ts(steps)[:, None]
    out = (1 - t) * a.double() + t * b.double()
    out[0], out[-1] = a, b
    return out.to(a.dtype)


def slerp(a: torch.Tensor, b: torch.Tensor, steps: int, eps: float = 1e-7) -> torch.Tensor:
    """(steps, d): the direction moves along the great circle from a to b, the norm moves linearly.

    So every frame has norm (1-t)|a| + t|b| (on the shell when |a| = |b|), and the endpoints are
    a and b exactly. Nearly parallel or opposite a and b fall back to lerp of the directions,
    where the great circle is numerically (or genuinely) undefined.
    """
    t = _ts(steps)[:, None]
    a64, b64 = a.double(), b.double()
    na, nb = a64.norm(), b64.norm()
    if na < eps or nb < eps:
        return lerp(a, b, steps)
    ua, ub = a64 / na, b64 / nb
    cos = (ua * ub).sum().clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    if torch.sin(omega) < 1e-6:
        u = (1 - t) * ua + t * ub
        u = u / u.norm(dim=1, keepdim=True).clamp_min(eps)
    else:
        u = (torch.sin((1 - t) * omega) * ua + torch.sin(t * omega) * ub) / torch.sin(omega)
    out = u * ((1 - t) * na + t * nb)
    out[0], out[-1] = a, b
    return out.to(a.dtype)


def interpolate(a: torch.Tensor, b: torch.Tensor, steps: int, mode: str = "slerp") -> torch.Tensor:
    if mode not in ("slerp", "lerp"):
        raise LatentError("latent.bad_mode", mode=mode)
    return slerp(a, b, steps) if mode == "slerp" else lerp(a, b, steps)


def random_walk(seed: int, z_dim: int, legs: int = 4, frames_per_leg: int = 8, loop: bool = True) -> torch.Tensor:
    """(legs * frames_per_leg, d): slerp through `legs` random keyframes, back to the start if `loop`.

    Keyframes rather than Gaussian steps: every frame stays on the shell and the motion is smooth,
    and a looping walk makes a seamless GIF.
    """
    keys = seeds_z([seed * 1000 + k for k in range(legs)], z_dim)
    if loop:
        keys = torch.cat([keys, keys[:1]])
    elif legs < 2:
        raise ValueError("an open walk needs at least 2 keyframes")
    parts = [slerp(keys[i], keys[i + 1], frames_per_leg + 1)[:-1] for i in range(len(keys) - 1)]
    if not loop:
        parts.append(keys[-1:])
    return torch.cat(parts)


def truncate(z: torch.Tensor, psi: float) -> torch.Tensor:
    """The truncation trick for N(0, I) noise: pull z towards the mean (0) by psi in [0, 1].

    psi < 1 trades variety for fidelity: faces become more typical and cleaner; psi = 0 gives the
    generator's "average face" for every seed.
    """
    if not 0.0 <= psi <= 1.0:
        raise LatentError("latent.bad_psi", psi=psi)
    return z * psi


def mean_latent(zs: torch.Tensor, keep_norm: bool = True) -> torch.Tensor:
    """The mean of several z. The plain mean of k independent z has norm ~ sqrt(d/k), inside the
    shell; with keep_norm it is scaled back to the mean norm of its parts."""
    m = zs.mean(0)
    if keep_norm and m.norm() > 0:
        m = m * (zs.norm(dim=1).mean() / m.norm())
    return m


def arithmetic(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor, keep_norm: bool = True) -> torch.Tensor:
    """a - b + c: "c, moved the way b differs from a" (the DCGAN paper's vector arithmetic)."""
    z = a - b + c
    if keep_norm and z.norm() > 0:
        z = z * (torch.stack([a.norm(), b.norm(), c.norm()]).mean() / z.norm())
    return z


@torch.inference_mode()
def render(G: torch.nn.Module, z: torch.Tensor, batch: int = 64):
    """uint8 images (N, H, W, 3) of G on z (N, z_dim), in eval mode, in batches of `batch`."""
    was_training = G.training
    G.eval()
    dev = next(G.parameters()).device
    out = torch.cat([G(z[i:i + batch].to(dev, torch.float32)).float().cpu() for i in range(0, len(z), batch)])
    G.train(was_training)
    return to_uint8(out)


def latent_batch(spec: tuple, z_dim: int) -> torch.Tensor:
    """The z batch a latent-page view (or the CLI) asks for, as a small hashable spec:
    ('seeds', seeds) | ('path', a, b, steps, mode) | ('walk', seed, legs, frames) | ('mean', seeds) | ('arith', a, b, c)."""
    kind, *p = spec
    if kind == "seeds":
        return seeds_z(p[0], z_dim)
    if kind == "path":
        a, b = seeds_z([p[0], p[1]], z_dim)
        return interpolate(a, b, p[2], p[3])
    if kind == "walk":
        return random_walk(p[0], z_dim, legs=p[1], frames_per_leg=p[2])
    if kind == "mean":
        return mean_latent(seeds_z(p[0], z_dim))[None]
    if kind == "arith":
        a, b, c = seeds_z(p, z_dim)
        return arithmetic(a, b, c)[None]
    raise ValueError(f"unknown latent spec {spec!r}")
