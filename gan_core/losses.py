"""GAN objectives. Discriminators return logits; each function takes those raw scores.

Minimax:           max_D  E[log D(x)] + E[log(1 - D(G(z)))],   min_G  E[log(1 - D(G(z)))]
Non-saturating:    G instead maximises E[log D(G(z))] - same fixed point, but strong gradients
                   early on when D easily rejects the fakes (log(1 - D) is flat there).
WGAN:              critic maximises E[f(x)] - E[f(G(z))] (a Wasserstein-1 estimate when f is
                   1-Lipschitz); clipping or a gradient penalty keeps f Lipschitz.
"""
import torch
import torch.nn.functional as F


def bce_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """D's turn: real -> 1, fake -> 0 (BCELoss on sigmoid outputs, computed stably)."""
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


def bce_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating G loss: fakes labelled 1 through a frozen D, i.e. -log D(G(z))."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


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


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, weight: float = 10.0) -> torch.Tensor:
    """WGAN-GP: weight * E[(||grad_x f(x_hat)||_2 - 1)^2] on random points between real and fake."""
    eps = torch.rand(real.shape[0], *([1] * (real.ndim - 1)), device=real.device, dtype=real.dtype)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    scores = critic(x_hat)
    (grads,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    return weight * ((grads.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


def class_loss(class_logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """AC-GAN's auxiliary term: cross-entropy of D's digit head against the intended digit."""
    return F.cross_entropy(class_logits, labels)
