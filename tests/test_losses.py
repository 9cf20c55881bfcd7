import math

import torch

from gan_core import losses


def test_bce_d_loss_matches_sigmoid_bce():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    expected = (torch.nn.BCELoss()(torch.sigmoid(real), torch.ones(2))
                + torch.nn.BCELoss()(torch.sigmoid(fake), torch.zeros(2)))
    assert torch.allclose(losses.bce_d_loss(real, fake), expected)


def test_perfect_discriminator_has_small_loss_and_nonsaturating_g_big():
    real, fake = torch.full((4,), 20.0), torch.full((4,), -20.0)
    assert losses.bce_d_loss(real, fake) < 1e-6
    assert losses.bce_g_loss(fake) > 19
    # minimax G loss saturates: its gradient vanishes where D rejects fakes confidently
    f = fake.clone().requires_grad_(True)
    losses.minimax_g_loss(f).backward()
    g = fake.clone().requires_grad_(True)
    losses.bce_g_loss(g).backward()
    assert f.grad.abs().max() < 1e-6 < g.grad.abs().max()


def test_bce_at_chance():
    z = torch.zeros(8)
    assert math.isclose(losses.bce_d_loss(z, z).item(), 2 * math.log(2), rel_tol=1e-6)


def test_wgan_losses_and_clip():
    real, fake = torch.tensor([3.0, 1.0]), torch.tensor([0.0, -2.0])
    assert losses.wgan_d_loss(real, fake).item() == -3.0
    assert losses.wgan_g_loss(fake).item() == 1.0
    lin = torch.nn.Linear(3, 1)
    torch.nn.init.constant_(lin.weight, 5.0)
    losses.clip_weights(lin, 0.01)
    assert lin.weight.abs().max().item() <= 0.01


def test_gradient_penalty_zero_for_unit_gradient_critic():
    # f(x) = sum(x * w) with ||w|| = 1 has gradient norm exactly 1 everywhere
    w = torch.randn(1, 2, 3, 3)
    w = w / w.norm()
    critic = lambda x: (x * w).flatten(1).sum(1)  # noqa: E731
    real, fake = torch.randn(5, 2, 3, 3), torch.randn(5, 2, 3, 3)
    assert losses.gradient_penalty(critic, real, fake).item() < 1e-8
    critic2 = lambda x: 3 * (x * w).flatten(1).sum(1)  # noqa: E731  gradient norm 3 -> (3-1)^2 * 10
    assert abs(losses.gradient_penalty(critic2, real, fake, weight=10).item() - 40) < 1e-3


def _descend(loss_fn, *logits, lr=0.1):
    """One gradient-descent step of loss_fn on the given scores: where the network is pushed."""
    params = [x.clone().requires_grad_(True) for x in logits]
    loss_fn(*params).backward()
    return [(p - lr * p.grad).detach() for p in params]


def test_every_loss_pushes_its_network_the_right_way():
    """The sign of each objective, on a tiny example: a flipped sign makes G learn to be rejected."""
    real, fake = torch.tensor([0.3, -0.2]), torch.tensor([0.1, -0.4])
    r, f = _descend(losses.bce_d_loss, real, fake)
    assert (r > real).all() and (f < fake).all()          # D: real up, fake down
    (f,) = _descend(losses.bce_g_loss, fake)
    assert (f > fake).all()                                # G: make D call the fakes real
    (f,) = _descend(losses.minimax_g_loss, fake)
    assert (f > fake).all()                                # the minimax G loss too (same fixed point)
    assert torch.allclose(losses.minimax_g_loss(fake), torch.log(1 - torch.sigmoid(fake)).mean())
    r, f = _descend(losses.wgan_d_loss, real, fake)
    assert (r > real).all() and (f < fake).all()          # critic: real scores up, fake down
    (f,) = _descend(losses.wgan_g_loss, fake)
    assert (f > fake).all()                                # G: its scores up
    cls, labels = torch.zeros(2, 10), torch.tensor([7, 3])
    (c,) = _descend(lambda x: losses.class_loss(x, labels), cls)
    assert c.argmax(1).tolist() == [7, 3]                  # AC-GAN head: towards the intended digit


def test_gradient_penalty_pushes_the_gradient_norm_to_one():
    """Descending the penalty moves a too-steep critic's slope down and a too-flat one's up."""
    w = torch.randn(1, 2, 3, 3)
    w = w / w.norm()
    real, fake = torch.randn(5, 2, 3, 3), torch.randn(5, 2, 3, 3)
    for scale, should_grow in ((3.0, False), (0.2, True)):
        a = torch.tensor(scale, requires_grad=True)
        losses.gradient_penalty(lambda x: a * (x * w).flatten(1).sum(1), real, fake).backward()
        assert (a.grad < 0) == should_grow, scale
