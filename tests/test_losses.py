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


def test_slides_losses_are_the_decks_bce_on_probabilities():
    """The slides' pair on D's probabilities: D's loss is the mean of its real and fake BCE, G's is -log D(G(z))."""
    real, fake = torch.tensor([0.8, 0.6]), torch.tensor([0.3, 0.1])
    d_real = -(math.log(0.8) + math.log(0.6)) / 2
    d_fake = -(math.log(0.7) + math.log(0.9)) / 2
    assert math.isclose(losses.slides_d_loss(real, fake).item(), (d_real + d_fake) / 2, rel_tol=1e-6)
    assert math.isclose(losses.slides_g_loss(fake).item(), -(math.log(0.3) + math.log(0.1)) / 2, rel_tol=1e-6)
    r, f = _descend(losses.slides_d_loss, real, fake, lr=0.01)
    assert (r > real).all() and (f < fake).all()          # D: real probabilities up, fake down
    (f,) = _descend(losses.slides_g_loss, fake, lr=0.01)
    assert (f > fake).all()                                # G: D's probability on the fakes up


def test_slides_losses_take_bf16_probabilities_in_fp32():
    """A bf16 D (autocast) hands over bf16 probabilities: the losses compare them in fp32, with fp32 targets."""
    real, fake = torch.tensor([0.8, 0.6]), torch.tensor([0.3, 0.1])
    d = losses.slides_d_loss(real.bfloat16(), fake.bfloat16())
    g = losses.slides_g_loss(fake.bfloat16())
    assert d.dtype == g.dtype == torch.float32
    assert torch.allclose(d, losses.slides_d_loss(real.bfloat16().float(), fake.bfloat16().float()))
    assert torch.allclose(g, losses.slides_g_loss(fake.bfloat16().float()))


def _square_critic(x):
    """f(x) = |x|^2 / 2 per sample: its gradient at x is x itself, so the penalty is known in closed form."""
    return 0.5 * (x ** 2).flatten(1).sum(1)


def test_gradient_penalty_on_the_mix_eps_real_plus_one_minus_eps_fake():
    real, fake = torch.randn(4, 2, 3, 3), torch.randn(4, 2, 3, 3)
    eps = torch.tensor([0.0, 0.25, 0.5, 1.0])
    x_hat = eps.view(4, 1, 1, 1) * real + (1 - eps.view(4, 1, 1, 1)) * fake
    want = ((x_hat.flatten(1).norm(dim=1) - 1) ** 2).mean()
    assert torch.allclose(losses.gradient_penalty(_square_critic, real, fake, weight=1.0, eps=eps), want)
    # default weight 10; eps given in another precision follows the data's
    assert torch.allclose(losses.gradient_penalty(_square_critic, real, fake, eps=eps.double()), 10 * want)
    assert losses.gradient_penalty(_square_critic, real, fake, eps=eps.double()).dtype == torch.float32


def test_gradient_penalty_draws_eps_like_the_data():
    """Without eps, the mixing weights are drawn in the data's dtype and on its device (bf16 stays bf16;
    on the meta device nothing is computed, so a CPU draw would not even mix)."""
    real, fake = torch.randn(3, 2, 4, 4), torch.randn(3, 2, 4, 4)
    assert losses.gradient_penalty(_square_critic, real.bfloat16(), fake.bfloat16()).dtype == torch.bfloat16
    meta = losses.gradient_penalty(_square_critic, real.to("meta"), fake.to("meta"))
    assert meta.device.type == "meta" and meta.shape == ()
    # each sample gets its own weight in [0, 1): the mix lies on the segment between its real and fake
    torch.manual_seed(0)
    eps = torch.rand(3, 1, 1, 1)
    torch.manual_seed(0)
    drawn = losses.gradient_penalty(_square_critic, real, fake, weight=1.0)
    assert torch.allclose(drawn, losses.gradient_penalty(_square_critic, real, fake, weight=1.0, eps=eps.flatten()))


def test_one_sided_label_smoothing_targets_real_at_the_label_and_fake_still_at_zero():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    expected = (torch.nn.BCELoss()(torch.sigmoid(real), torch.full((2,), 0.9))
                + torch.nn.BCELoss()(torch.sigmoid(fake), torch.zeros(2)))
    assert torch.allclose(losses.bce_d_loss(real, fake, 0.9), expected)
    probs_real, probs_fake = torch.sigmoid(real), torch.sigmoid(fake)
    slides = (torch.nn.BCELoss()(probs_real, torch.full((2,), 0.9)) + torch.nn.BCELoss()(probs_fake, torch.zeros(2))) / 2
    assert torch.allclose(losses.slides_d_loss(probs_real, probs_fake, 0.9), slides)
    # a D sure that a real picture is real now pays for it; at the label itself it is at its best
    sure, at_label = torch.full((4,), 20.0), torch.full((4,), math.log(0.9 / 0.1))
    very_fake = torch.full((4,), -20.0)
    assert losses.bce_d_loss(sure, very_fake, 0.9) > losses.bce_d_loss(at_label, very_fake, 0.9)
    assert losses.bce_d_loss(sure, very_fake) < losses.bce_d_loss(at_label, very_fake)
