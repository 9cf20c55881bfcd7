"""GAN objectives. Discriminators return logits and each function takes those raw scores, except the
slides' pair (slides_*), which takes the probabilities of a D that ends in a sigmoid, as the deck does.

Minimax:           max_D  E[log D(x)] + E[log(1 - D(G(z)))],   min_G  E[log(1 - D(G(z)))]
Non-saturating:    G instead maximises E[log D(G(z))] - same fixed point, but strong gradients
                   early on when D easily rejects the fakes (log(1 - D) is flat there).
WGAN:              critic maximises E[f(x)] - E[f(G(z))] (a Wasserstein-1 estimate when f is
                   1-Lipschitz); clipping or a gradient penalty keeps f Lipschitz.
"""
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn


def bce_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, real_label: float = 1.0) -> torch.Tensor:
    """D's turn: real -> 1, fake -> 0 (BCELoss on sigmoid outputs, computed stably). real_label 0.9 is
    one-sided label smoothing (Salimans et al. 2016): D is never asked to be sure a picture is real."""
    return (F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, real_label))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


def bce_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating G loss: fakes labelled 1 through a frozen D, i.e. -log D(G(z))."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def slides_d_loss(real_probs: torch.Tensor, fake_probs: torch.Tensor, real_label: float = 1.0) -> torch.Tensor:
    """The slides' D loss, as the deck writes it: nn.BCELoss on D's probabilities (D ends in a
    sigmoid), real -> 1 and fake -> 0, and d_loss = (d_loss_real + d_loss_fake) / 2 (real_label: as bce_d_loss)."""
    loss = nn.BCELoss()
    with torch.autocast(real_probs.device.type, enabled=False):  # BCELoss on probabilities is fp32 only
        d_loss_real = loss(real_probs.float(), torch.full_like(real_probs, real_label, dtype=torch.float32))
        d_loss_fake = loss(fake_probs.float(), torch.zeros_like(fake_probs, dtype=torch.float32))
    return (d_loss_real + d_loss_fake) / 2


def slides_g_loss(fake_probs: torch.Tensor) -> torch.Tensor:
    """The slides' G loss: nn.BCELoss of D(G(z)) against the real label 1 (non-saturating)."""
    with torch.autocast(fake_probs.device.type, enabled=False):
        return nn.BCELoss()(fake_probs.float(), torch.ones_like(fake_probs, dtype=torch.float32))


def minimax_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The original minimax G loss, log(1 - D(G(z))); kept for teaching (it saturates)."""
    return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))


def wgan_d_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """Critic minimises E[f(fake)] - E[f(real)], i.e. maximises the Wasserstein estimate."""
    return fake_scores.mean() - real_scores.mean()


def wgan_g_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    return -fake_scores.mean()


@torch.no_grad()
def clip_weights(critic: torch.nn.Module, c: float = 0.01) -> None:
    """Original WGAN: keep every weight in [-c, c] so the critic stays (roughly) Lipschitz."""
    for p in critic.parameters():
        p.clamp_(-c, c)


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, weight: float = 10.0,
                     eps: torch.Tensor | None = None) -> torch.Tensor:
    """WGAN-GP: weight * E[(||grad_x f(x_hat)||_2 - 1)^2] on random points between real and fake.
    `eps` (B,): where each point lies between them; default drawn from torch's global generator."""
    shape = (real.shape[0], *([1] * (real.ndim - 1)))
    eps = torch.rand(shape, device=real.device, dtype=real.dtype) if eps is None else eps.to(real).view(shape)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    scores = critic(x_hat)
    (grads,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    return weight * ((grads.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


def r1_penalty(real_logits: torch.Tensor, real: torch.Tensor, gamma: float) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): gamma/2 * E[||grad_x D(x)||^2] on real images only, `real_logits` D's
    outputs on `real` (which requires grad). D is kept flat where the data is, so it cannot push G past the
    real digits and back: the two settle instead of circling (what the paper shows the plain GAN does)."""
    (grads,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
    return gamma / 2 * grads.float().flatten(1).pow(2).sum(1).mean()


def class_loss(class_logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """AC-GAN's auxiliary term: cross-entropy of D's digit head against the intended digit."""
    return F.cross_entropy(class_logits, labels)


@dataclass(frozen=True)
class BCEFamily:
    """How Trainer._bce_iteration runs for a registry `loss` of the BCE kind."""
    d_loss: Callable        # (D's output on real, on fake, the real images' target) -> D's loss
    g_loss: Callable        # D's output on the fakes -> G's loss
    real_above: float       # D means "real" above this: 0 for a logit, 0.5 for a probability
    fresh_noise: bool       # G's turn draws new noise (the slides) or reuses the fakes D just saw


BCE_FAMILIES = {
    "bce": BCEFamily(bce_d_loss, bce_g_loss, real_above=0.0, fresh_noise=False),          # logits, BCEWithLogits
    "bce-sigmoid": BCEFamily(slides_d_loss, slides_g_loss, real_above=0.5, fresh_noise=True),  # the slides
}
