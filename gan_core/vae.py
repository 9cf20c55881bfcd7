"""A small variational autoencoder for MNIST: the lesson's "VAE results are blurry", trained live.

The decoder has the DCGAN generator's shape (z -> 7x7 -> 14x14 -> 28x28, transposed convolutions) and
the encoder the DCGAN discriminator's (28 -> 14 -> 7, strided convolutions), so a VAE-vs-GAN race
differs in the objective, not in the network that draws. The objective is the ELBO:

    log p(x) >= E_q(z|x)[log p(x|z)] - KL(q(z|x) || N(0, I))

and we minimise its negative: a Bernoulli reconstruction loss (BCE summed over the pixels) plus the KL
term, per image. Under BCE the best decoder output for an unsure pixel is the average of what is
plausible, hence the blur. Sampling needs no encoder: z ~ N(0, I) through the decoder, as for a GAN.
"""
import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from .models import HUB_KW, GeneratorBase, register


@register
class VAEEncoder(nn.Module, PyTorchModelHubMixin, **HUB_KW):
    """q(z|x): image (N, C, 28, 28) -> (mu, logvar) side by side as one tensor (N, 2 * z_dim)."""

    def __init__(self, z_dim: int = 16, width: int = 32, channels: int = 1):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2),        # state size. w x 14 x 14
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2),       # state size. 2w x 7 x 7
            nn.Flatten(), nn.Linear(2 * width * 7 * 7, 2 * z_dim),
        )

    def forward(self, x):
        return self.main(x)


@register
class VAEDecoder(GeneratorBase, PyTorchModelHubMixin, **HUB_KW):
    """p(x|z): z (N, z_dim) -> pixel logits (N, C, 28, 28). forward() returns tanh(logits / 2), which is
    2 * sigmoid(logits) - 1: the Bernoulli means in [-1, 1], like every generator's images here."""

    def __init__(self, z_dim: int = 16, width: int = 32, channels: int = 1):
        super().__init__()
        self.z_dim, self.width, self.channels, self.img_size = z_dim, width, channels, 28
        self.project = nn.Sequential(nn.Linear(z_dim, 2 * width * 7 * 7), nn.ReLU())
        self.main = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.ReLU(),      # state size. w x 14 x 14
            nn.ConvTranspose2d(width, channels, 4, 2, 1),                  # state size. C x 28 x 28 (logits)
        )
        self.tanh = nn.Tanh()

    def forward(self, z, logits: bool = False):
        out = self.main(self.project(z).view(-1, 2 * self.width, 7, 7))
        return out if logits else self.tanh(out / 2)


def elbo_terms(encoder, decoder, x: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(reconstruction, KL), each summed over an image and averaged over the batch; -ELBO is their sum.

    x: (B, C, 28, 28) in [-1, 1]; eps: (B, z_dim) standard normal noise (the trainer's seeded stream)."""
    mu, logvar = encoder(x).float().chunk(2, dim=1)
    z = mu + torch.exp(0.5 * logvar) * eps                 # the reparameterisation trick: gradients reach mu, logvar
    target = (x.float() + 1) / 2                           # pixels as Bernoulli probabilities in [0, 1]
    rec = F.binary_cross_entropy_with_logits(decoder(z, logits=True).float(), target, reduction="sum") / len(x)
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / len(x)  # KL(N(mu, sigma^2) || N(0, I)) >= 0
    return rec, kl
