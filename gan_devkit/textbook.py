"""Baselines written the way the seed slides and the PyTorch DCGAN tutorial write them.

Same architectures and batch sizes as gan_core, but the textbook habits: a DataLoader over a
TensorDataset, a Sigmoid + BCELoss discriminator, label tensors built each step, D's gradients
computed during G's turn, fake images generated twice (slides) and fp32 throughout.
"""
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def slides_fnn(z_dim=64, hidden=256):
    G = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                      nn.Linear(hidden, 784), nn.Tanh())
    D = nn.Sequential(nn.Linear(784, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
                      nn.Linear(hidden, 1), nn.Sigmoid())
    return G, D


class View(nn.Module):
    def __init__(self, *shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.view(x.shape[0], *self.shape)


def tutorial_dcgan28(z_dim=100, w=64):
    G = nn.Sequential(nn.Linear(z_dim, 2 * w * 49, bias=False), nn.BatchNorm1d(2 * w * 49), nn.ReLU(), View(2 * w, 7, 7),
                      nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
                      nn.ConvTranspose2d(w, 1, 4, 2, 1), nn.Tanh())
    D = nn.Sequential(nn.Conv2d(1, w, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False),
                      nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(2 * w * 49, 1), nn.Sigmoid())
    return G, D


def run_bce(G, D, images, z_dim, batch_size, steps, flat, lr=2e-4, beta1=0.5, seconds=None):
    """The slides' loop. Returns (steps done, seconds). Stops at `steps` or after `seconds`."""
    loader = DataLoader(TensorDataset(images.flatten(1) if flat else images), batch_size=batch_size, shuffle=True, drop_last=True)
    crit = nn.BCELoss()
    d_opt = torch.optim.Adam(D.parameters(), lr=lr, betas=(beta1, 0.999))
    g_opt = torch.optim.Adam(G.parameters(), lr=lr, betas=(beta1, 0.999))
    done, t0 = 0, time.perf_counter()
    while True:
        for (x,) in loader:
            real_labels = torch.ones(batch_size, 1)
            fake_labels = torch.zeros(batch_size, 1)
            d_loss = crit(D(x), real_labels) + crit(D(G(torch.randn(batch_size, z_dim))), fake_labels)
            d_opt.zero_grad()
            g_opt.zero_grad()
            d_loss.backward()
            d_opt.step()
            fake = G(torch.randn(batch_size, z_dim))
            g_loss = crit(D(fake), real_labels)
            d_opt.zero_grad()
            g_opt.zero_grad()
            g_loss.backward()
            g_opt.step()
            done += 1
            if done >= steps or (seconds and time.perf_counter() - t0 >= seconds):
                return done, time.perf_counter() - t0


def run_wgan_gp(G, D, images, z_dim, batch_size, steps, n_critic=5, lr=1e-4, gp=10.0):
    """A common WGAN-GP loop: n_critic critic steps per G step, penalty on interpolates."""
    loader = DataLoader(TensorDataset(images), batch_size=batch_size, shuffle=True, drop_last=True)
    d_opt = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.0, 0.9))
    g_opt = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.0, 0.9))
    done, i, t0 = 0, 0, time.perf_counter()
    while True:
        for (x,) in loader:
            fake = G(torch.randn(batch_size, z_dim)).detach()
            eps = torch.rand(batch_size, 1, 1, 1)
            xh = (eps * x + (1 - eps) * fake).requires_grad_(True)
            grad = torch.autograd.grad(D(xh).sum(), xh, create_graph=True)[0]
            loss = D(fake).mean() - D(x).mean() + gp * ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
            d_opt.zero_grad()
            loss.backward()
            d_opt.step()
            i += 1
            if i % n_critic == 0:
                g_loss = -D(G(torch.randn(batch_size, z_dim))).mean()
                g_opt.zero_grad()
                g_loss.backward()
                g_opt.step()
                done += 1
                if done >= steps:
                    return done, time.perf_counter() - t0
