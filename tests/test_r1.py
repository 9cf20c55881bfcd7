"""R1 (Mescheder et al. 2018), lazily as StyleGAN2: the penalty's value and gradient, its own D step on a batch of
real digits of its own every r1_every-th iteration at r1_every times the weight, and only in BCE GANs on logits."""
import pytest
import torch

from gan_core import losses
from gan_core.data import load_mnist, mnist_tensor
from gan_core.training import TrainConfig, Trainer


@pytest.fixture(scope="module")
def data():
    return mnist_tensor("test")[:256]


def trainer(model, data, **kw):
    base = dict(batch_size=16, width=8, n_fixed=4, snapshot_every=1000, ema=0.0)
    cfg = TrainConfig.preset(model, **{**base, **kw})
    labels = torch.tensor(load_mnist("test")[1][:len(data)]) if cfg.num_classes else None
    return Trainer(cfg, data, device="cpu", labels=labels)


def test_r1_is_half_gamma_times_the_squared_gradient_norm_on_the_real_images():
    """D(x) = w . x + b: grad_x = w for every image, so R1 = gamma/2 * |w|^2 and its gradient in w is gamma * w
    (D pulled flat, not pushed anywhere); the bias, which moves no score relative to another, feels nothing."""
    torch.manual_seed(0)
    w, b = torch.randn(6, requires_grad=True), torch.randn((), requires_grad=True)
    x = torch.randn(5, 6, requires_grad=True)
    r1 = losses.r1_penalty(x @ w + b, x, gamma=3.0)
    assert r1.item() == pytest.approx(1.5 * w.detach().pow(2).sum().item(), rel=1e-6)
    gw, gb = torch.autograd.grad(r1, (w, b), allow_unused=True)
    assert torch.allclose(gw, 3.0 * w.detach()) and (gb is None or gb.abs().item() == 0)
    per_image = torch.tensor([1.0, 2.0, 0.0, 0.0, 0.0])  # D(x) = sum_i s_i * (x_i . w): image i's gradient s_i * w
    x2 = torch.randn(5, 6, requires_grad=True)
    r1 = losses.r1_penalty((x2 @ w) * per_image, x2, gamma=2.0)
    assert r1.item() == pytest.approx(w.detach().pow(2).sum().item() * (1 + 4) / 5, rel=1e-6)  # the batch's mean


def test_r1_step_runs_on_every_kth_iteration_in_bce_gans_only(data):
    """r1_every=3 over 7 iterations: D steps on iterations 0, 3 and 6 besides D's own 7. Off at 0, in the slides'
    sigmoid D, in a WGAN's critic, and on G's half-step (D's turn skipped)."""
    def d_steps(model, n=7, turn=None, **kw):
        t = trainer(model, data, **kw)
        calls = []
        step = t.opt_d.step
        t.opt_d.step = lambda *a, **k: calls.append(t.iteration) or step(*a, **k)
        t.step(n, turn=turn)
        return calls
    assert d_steps("dcgan", r1=2.0, r1_every=3) == [0, 0, 1, 2, 3, 3, 4, 5, 6, 6]
    assert d_steps("cdcgan", r1=2.0, r1_every=1, n=2) == [0, 0, 1, 1]  # the conditional D: its real/fake logit
    assert d_steps("dcgan", r1=0.0) == list(range(7))
    assert d_steps("slides", r1=2.0, r1_every=1) == list(range(7))
    assert d_steps("wgan-gp", r1=2.0, r1_every=1, n_critic=1) == list(range(7))
    assert d_steps("dcgan", turn="g", r1=2.0, r1_every=1) == []
    assert d_steps("dcgan", turn="d", r1=2.0, r1_every=2, n=3) == [0, 0, 1, 2, 2]


@pytest.mark.parametrize("model", ["dcgan", "progressive"])
def test_r1_step_is_a_d_step_on_a_fresh_real_batch_at_every_times_the_weight(data, model):
    """One iteration with R1 (gamma 2, every 3) ends where the same iteration without it ends plus one plain SGD
    step down gamma * 3 / 2 * E|grad_x D(x)|^2 on the next real batch the run draws: the weight, the batch and the
    order (after G's turn: D as that iteration left it) all matter. Progressive: through its fade-in."""
    cfg = dict(optimizer="sgd", lr_d=0.05, bf16=False, channels_last=False, equalized_lr="none")
    off, on = trainer(model, data, r1=0.0, **cfg), trainer(model, data, r1=2.0, r1_every=3, **cfg)
    off.step(1)
    on.step(1)
    x, _ = off._batch()
    x.requires_grad_(True)
    logit, _, _ = off._judge(x)
    params = list(off.D.parameters())
    grads = torch.autograd.grad(losses.r1_penalty(logit, x, 2.0 * 3), params, allow_unused=True)
    moved = 0
    for p_off, g, p_on in zip(params, grads, on.D.parameters()):
        want = p_off.detach() - 0.05 * (torch.zeros_like(p_off) if g is None else g)
        assert torch.allclose(p_on.detach(), want, atol=1e-6, rtol=1e-5)
        moved += int(not torch.equal(p_on.detach(), p_off.detach()))
    assert moved > 0
    assert all(torch.equal(a, b) for a, b in zip(on.G.parameters(), off.G.parameters()))  # G's turn came before it


@pytest.mark.parametrize("model, kw", [("dcgan", {}), ("cdcgan", {}), ("cdcgan", {"d_twin": False})])
def test_r1_step_hands_every_weight_of_d_a_gradient(data, model, kw):
    """Under torchrun DDP waits for a gradient of every weight a forward used, or the next iteration fails:
    R1's step gives one to each of D's weights, a zero to those with no say in a gradient over the images (the
    score's bias; the conditional D's digit heads, and its twin head where it has one, run as in D's turn)."""
    t = trainer(model, data, r1=2.0, r1_every=1, **kw)
    missing, bias_grads = [], []
    step = t.opt_d.step

    def spy(*a, **k):
        missing.append({n for n, p in t.D.named_parameters() if p.grad is None})
        bias_grads.append(t.D.main[-1].bias.grad.clone())
        return step(*a, **k)
    t.opt_d.step = spy
    t.step(1)
    assert missing == [set(), set()]  # D's own turn, then R1's
    assert bias_grads[0].abs().item() > 0 and bias_grads[1].abs().item() == 0
