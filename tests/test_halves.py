"""gan_core.halves: a batch norm that, inside split(), normalises each half of its batch as two calls would."""
import pytest
import torch
from torch import nn

from gan_core import halves
from gan_core.layout import NarrowBatchNorm, as_norm


def _pair(channels=6):
    torch.manual_seed(0)
    plain = nn.BatchNorm2d(channels)
    with torch.no_grad():
        plain.weight.uniform_(0.5, 1.5)
        plain.bias.uniform_(-0.5, 0.5)
    return plain, as_norm(plain, halves.HalvesBatchNorm2d)


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_split_normalises_each_half_as_two_calls_would(layout):
    """Outputs, input and weight gradients, and the running statistics (real half first, then fake) as two calls of
    nn.BatchNorm2d give them; the two halves have different means, so one norm over both would not."""
    plain, halved = _pair()
    reference = nn.BatchNorm2d(6)
    reference.load_state_dict(plain.state_dict())
    real = torch.randn(5, 6, 4, 3, dtype=torch.float64)
    fake = 3 + 2 * torch.randn(5, 6, 4, 3, dtype=torch.float64)
    reference, halved = reference.double(), halved.double()
    both = torch.cat([real, fake]).contiguous(memory_format=layout).requires_grad_(True)
    apart = both.detach().clone().requires_grad_(True)
    with halves.split([halved]):
        out = halved(both)
    expected = torch.cat([reference(apart[:5]), reference(apart[5:])])
    torch.testing.assert_close(out, expected)
    weights = torch.randn_like(out)
    (out * weights).sum().backward()
    (expected * weights).sum().backward()
    torch.testing.assert_close(both.grad, apart.grad)
    torch.testing.assert_close(halved.weight.grad, reference.weight.grad)
    torch.testing.assert_close(halved.bias.grad, reference.bias.grad)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        torch.testing.assert_close(getattr(halved, name), getattr(reference, name))
    assert halved.num_batches_tracked == 2
    assert not torch.allclose(out, reference.train()(both.detach()))  # one norm over both halves is another thing


def test_outside_split_and_in_eval_it_is_batch_norm():
    plain, halved = _pair()
    x = torch.randn(8, 6, 3, 3)
    torch.testing.assert_close(halved(x), plain(x))  # not split: one batch, its own statistics
    plain.eval(), halved.eval()
    with halves.split([halved]):                    # eval: the running statistics, nothing to split
        torch.testing.assert_close(halved(x), plain(x))


def test_split_puts_the_norms_back_even_when_the_forward_fails():
    _, halved = _pair()
    with pytest.raises(RuntimeError), halves.split([halved]):
        assert halved.halves == 2
        raise RuntimeError("a forward that failed")
    assert halved.halves == 1


def test_halve_norms_swaps_plain_batch_norms_keeping_their_tensors():
    """Every plain nn.BatchNorm2d, the same parameter and buffer tensors (an optimizer made before still steps them);
    a NarrowBatchNorm, a BatchNorm1d or a GroupNorm are left as they are, and joinable() says what that means."""
    norm = nn.BatchNorm2d(4)
    net = nn.Sequential(nn.Conv2d(1, 4, 3), norm, nn.Sequential(nn.Conv2d(4, 4, 1), nn.BatchNorm2d(4)), nn.GroupNorm(1, 4))
    keep = (norm.weight, norm.bias, norm.running_mean, norm.running_var)
    swapped = halves.halve_norms(net)
    assert [type(m) for m in swapped] == [halves.HalvesBatchNorm2d] * 2 and swapped[0] is net[1]
    assert all(a is b for a, b in zip((net[1].weight, net[1].bias, net[1].running_mean, net[1].running_var), keep))
    assert halves.joinable(net) and halves.joinable(nn.Sequential(nn.Linear(2, 2)))
    assert not halves.joinable(nn.Sequential(as_norm(nn.BatchNorm2d(4), NarrowBatchNorm)))
    assert not halves.joinable(nn.Sequential(nn.BatchNorm1d(4)))
    assert halves.halve_norms(nn.Sequential(nn.BatchNorm1d(4))) == []
