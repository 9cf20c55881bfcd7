import json

import pytest
import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from gan_core import hub, models
from gan_core.models import (ClassBatchNorm, DCGANDiscriminator28, DCGANDiscriminator64, DCGANGenerator28, DCGANGenerator64,
                             FaceExerciseDiscriminator, FaceExerciseGenerator, MLPDiscriminator, MLPGenerator,
                             count_params)


def test_slides_fnn_gan_exact_shapes():
    G, D = MLPGenerator(), MLPDiscriminator()
    linears = [m for m in G.net if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(64, 256), (256, 256), (256, 784)]
    assert isinstance(G.net[-1], torch.nn.Tanh)
    dl = [m for m in D.net if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in dl] == [(784, 256), (256, 256), (256, 1)]
    assert count_params(G) == 64 * 256 + 256 + 256 * 256 + 256 + 256 * 784 + 784


@pytest.mark.parametrize("G,D,shape", [
    (MLPGenerator(), MLPDiscriminator(), (1, 28, 28)),
    (DCGANGenerator28(), DCGANDiscriminator28(), (1, 28, 28)),
    (DCGANGenerator64(width=8), DCGANDiscriminator64(width=8), (3, 64, 64)),
])
def test_generator_discriminator_shapes_and_range(G, D, shape):
    x = G(torch.randn(3, G.z_dim) * 10)
    assert x.shape == (3, *shape) and x.abs().max() <= 1
    assert D(x).shape == (3,)
    assert (G.channels, G.img_size, G.img_size) == shape


def test_wgan_critic_has_no_batchnorm_or_sigmoid():
    for critic in (DCGANDiscriminator28(norm="none"), DCGANDiscriminator64(width=8, norm="none")):
        kinds = {type(m) for m in critic.modules()}
        assert torch.nn.BatchNorm2d not in kinds and torch.nn.Sigmoid not in kinds
        # scores are unbounded, not probabilities
        x = torch.randn(2, *((1, 28, 28) if isinstance(critic, DCGANDiscriminator28) else (3, 64, 64)))
        assert critic(x).shape == (2,)


def test_generate_is_seeded_and_restores_mode():
    G = DCGANGenerator28(width=8)
    G.train()
    a, b = G.generate(4, seed=1), G.generate(4, seed=1)
    assert torch.equal(a, b) and not torch.equal(a, G.generate(4, seed=2))
    assert G.training


def test_hf_folder_roundtrip(tmp_path):
    G = DCGANGenerator28(z_dim=16, width=8)
    hub.save_model(G, tmp_path, card="# card\n")
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert cfg == {"architecture": "DCGANGenerator28", "z_dim": 16, "width": 8, "channels": 1, "dropout": 0.0, "num_classes": 0,
                   "img_size": 28, "hidden": 0, "class_norm": False, "hidden_layers": 1}
    assert (tmp_path / "README.md").read_text() == "# card\n"
    G2 = hub.load_model(tmp_path)
    assert isinstance(G2, DCGANGenerator28) and not G2.training
    G.eval()
    z = torch.randn(2, 16)
    assert torch.equal(G(z), G2(z))
    # the Hub mixin loads the same folder too
    G3 = DCGANGenerator28.from_pretrained(tmp_path)
    assert torch.equal(G3.eval()(z), G(z))


def test_dcgan_generator_with_a_dense_hidden_layer(tmp_path):
    """hidden=H: z (and the digit) -> H units -> the 7x7 maps, as DCGAN's own MNIST code; 0: straight to the maps."""
    plain, dense = DCGANGenerator28(z_dim=16, width=8, num_classes=10), DCGANGenerator28(z_dim=16, width=8, num_classes=10, hidden=24)
    shapes = [(m.in_features, m.out_features) for m in dense.project if isinstance(m, torch.nn.Linear)]
    assert shapes == [(26, 24), (24, 2 * 8 * 7 * 7)]
    assert [(m.in_features, m.out_features) for m in plain.project if isinstance(m, torch.nn.Linear)] == [(26, 2 * 8 * 7 * 7)]
    assert count_params(dense) - count_params(plain) == 26 * 24 + 2 * 24 + (24 - 26) * 2 * 8 * 7 * 7
    x = dense(torch.randn(3, 16), torch.tensor([0, 5, 9]))
    assert x.shape == (3, 1, 28, 28) and x.abs().max() <= 1
    hub.save_model(dense, tmp_path)  # the Hub folder remembers it, and loads to the same function
    assert json.loads((tmp_path / "config.json").read_text())["hidden"] == 24
    z, y = torch.randn(4, 16), torch.tensor([1, 2, 3, 4])
    assert torch.equal(hub.load_model(tmp_path)(z, y), dense.eval()(z, y))


def test_dcgan_discriminator_with_a_dense_hidden_layer(tmp_path):
    """hidden=H: the 7x7 maps -> H units -> the score, and the class head reads the same H units."""
    plain, dense = DCGANDiscriminator28(width=8, num_classes=10), DCGANDiscriminator28(width=8, num_classes=10, hidden=24)
    shapes = [(m.in_features, m.out_features) for m in dense.main if isinstance(m, torch.nn.Linear)]
    assert shapes == [(2 * 8 * 7 * 7, 24), (24, 1)] and dense.classes.in_features == 24
    assert [(m.in_features, m.out_features) for m in plain.main if isinstance(m, torch.nn.Linear)] == [(2 * 8 * 7 * 7, 1)]
    x = torch.randn(3, 1, 28, 28)
    logit, classes = dense.eval().forward_with_classes(x)
    assert logit.shape == (3,) and classes.shape == (3, 10) and torch.allclose(logit, dense(x))
    hub.save_model(dense, tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["hidden"] == 24
    assert torch.equal(hub.load_model(tmp_path)(x), dense(x))


def test_the_twin_head_is_a_class_head_of_its_own(tmp_path):
    """TAC-GAN's twin: the same features as the class head, its own weights, asked for by name only (a
    two-head caller sees the AC-GAN pair); the rest of D starts as it would without it."""
    torch.manual_seed(0)
    plain = DCGANDiscriminator28(width=8, num_classes=10, hidden=24)
    torch.manual_seed(0)
    tac = DCGANDiscriminator28(width=8, num_classes=10, hidden=24, twin=True)
    assert all(torch.equal(plain.state_dict()[k], v) for k, v in tac.state_dict().items() if not k.startswith("twin."))
    x = torch.randn(3, 1, 28, 28)
    tac.eval()
    assert len(tac.forward_with_classes(x)) == 2
    logit, classes, twin = tac.forward_with_classes(x, twin=True)
    assert twin.shape == classes.shape == (3, 10) and not torch.allclose(twin, classes)
    with torch.no_grad():
        tac.twin.weight.zero_()
        tac.twin.bias.copy_(torch.arange(10.0))
    assert torch.equal(tac.forward_with_classes(x, twin=True)[2], torch.arange(10.0).expand(3, 10))
    assert torch.equal(tac.forward_with_classes(x, twin=True)[1], classes)  # the class head untouched
    hub.save_model(tac, tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["twin"] is True
    assert torch.equal(hub.load_model(tmp_path).forward_with_classes(x, twin=True)[2], torch.arange(10.0).expand(3, 10))
    with pytest.raises(ValueError):
        DCGANDiscriminator28(width=8, twin=True)


def test_load_errors_are_clear(tmp_path):
    with pytest.raises(hub.ModelLoadError, match="valid Hub repo id|could not fetch") as err:
        hub.load_model(str(tmp_path / "no" / "such" / "dir"))
    assert err.value.code in ("hub.bad_repo_id", "hub.offline", "hub.repo_not_found", "hub.fetch_failed")
    hub.save_model(MLPGenerator(hidden=32), tmp_path / "mlp")
    # wrong weights for the architecture named in config.json
    (tmp_path / "mlp" / "config.json").write_text(json.dumps({"architecture": "MLPGenerator", "hidden": 64}))
    with pytest.raises(hub.ModelLoadError, match="do not match MLPGenerator") as err:
        hub.load_model(tmp_path / "mlp")
    assert err.value.code == "hub.weights_mismatch"
    # corrupt safetensors
    (tmp_path / "mlp" / "config.json").write_text(json.dumps({"architecture": "MLPGenerator", "hidden": 32}))
    (tmp_path / "mlp" / "model.safetensors").write_bytes(b"\x00" * 100)
    with pytest.raises(hub.ModelLoadError, match="corrupt or not safetensors") as err:
        hub.load_model(tmp_path / "mlp")
    assert err.value.code == "hub.corrupt_weights"
    # pickles are refused, never unpickled
    (tmp_path / "mlp" / "model.safetensors").unlink()
    torch.save(MLPGenerator(hidden=32).state_dict(), tmp_path / "mlp" / "pytorch_model.bin")
    with pytest.raises(hub.ModelLoadError, match="refusing to unpickle") as err:
        hub.load_model(tmp_path / "mlp")
    assert err.value.code == "hub.pickle_only"
    # unknown architecture, bad json, a file instead of a folder
    (tmp_path / "mlp" / "config.json").write_text(json.dumps({"architecture": "Evil"}))
    with pytest.raises(hub.ModelLoadError, match="architecture 'Evil'") as err:
        hub.load_model(tmp_path / "mlp")
    assert err.value.code == "hub.unknown_architecture" and err.value.params["architecture"] == "Evil"
    (tmp_path / "mlp" / "config.json").write_text("{nope")
    with pytest.raises(hub.ModelLoadError, match="not valid JSON") as err:
        hub.load_model(tmp_path / "mlp")
    assert err.value.code == "hub.bad_config_json"
    with pytest.raises(hub.ModelLoadError, match="is a file") as err:
        hub.load_model(tmp_path / "mlp" / "config.json")
    assert err.value.code == "hub.is_file"


def test_expect_rejects_wrong_kind(tmp_path):
    from gan_core.models import GeneratorBase
    hub.save_model(MLPDiscriminator(hidden=8), tmp_path)
    with pytest.raises(hub.ModelLoadError, match="not a GeneratorBase") as err:
        hub.load_model(tmp_path, expect=GeneratorBase)
    assert err.value.code == "hub.wrong_kind"


def test_class_batch_norm_scales_and_shifts_each_sample_by_its_own_digit():
    norm = ClassBatchNorm(3, num_classes=4, dims=2)
    with torch.no_grad():
        norm.weight.copy_(torch.arange(12.0).view(4, 3) + 1)
        norm.bias.copy_(-torch.arange(12.0).view(4, 3))
    x, labels = torch.randn(6, 3, 5, 5), torch.tensor([0, 3, 1, 3, 2, 0])
    plain = torch.nn.functional.batch_norm(x, None, None, training=True)  # what its batch norm alone gives
    want = plain * norm.weight[labels][:, :, None, None] + norm.bias[labels][:, :, None, None]
    torch.testing.assert_close(norm(x, labels), want)
    # dense features (N, C): the same per sample
    norm1 = ClassBatchNorm(3, num_classes=4, dims=1)
    with torch.no_grad():
        norm1.weight.copy_(norm.weight)
    h = torch.randn(6, 3)
    torch.testing.assert_close(norm1(h, labels), torch.nn.functional.batch_norm(h, None, None, training=True) * norm.weight[labels])
    # the class's scale and shift are the only ones: the batch norm under them learns none (a checkpoint's keys)
    assert [name for name, _ in norm.named_parameters()] == ["weight", "bias"]
    assert [name for name, _ in norm1.named_parameters()] == ["weight", "bias"]


def test_class_batch_norm_sums_each_digits_gradient_over_its_samples():
    norm = ClassBatchNorm(3, num_classes=4, dims=1)
    h, labels, g = torch.randn(6, 3), torch.tensor([0, 3, 1, 3, 3, 0]), torch.randn(6, 3)
    norm(h, labels).backward(g)
    plain = torch.nn.functional.batch_norm(h, None, None, training=True)
    for digit in range(4):  # digit 2 drew no sample: no gradient
        rows = labels == digit
        torch.testing.assert_close(norm.weight.grad[digit], (g[rows] * plain[rows]).sum(0))
        torch.testing.assert_close(norm.bias.grad[digit], g[rows].sum(0))


def test_a_generator_with_class_norm_draws_each_digit_with_that_digits_norms(tmp_path):
    torch.manual_seed(0)
    G = DCGANGenerator28(z_dim=8, width=4, num_classes=10, hidden=16, class_norm=True).eval()
    z, labels = torch.randn(4, 8), torch.tensor([3, 5, 3, 7])
    before = G(z, labels)
    with torch.no_grad():  # change only digit 3's scale in the last batch norm: only the 3s change
        G.main[1].weight[3].mul_(-2)
    after = G(z, labels)
    changed = (after - before).abs().flatten(1).amax(1) > 1e-4
    assert changed.tolist() == [True, False, True, False]
    hub.save_model(G, tmp_path)  # it saves and loads as a Hugging Face folder, as every model here
    G2 = hub.load_model(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["class_norm"] is True
    torch.testing.assert_close(G2(z, labels), after)
    with pytest.raises(ValueError, match="class_norm"):
        DCGANGenerator28(width=4, class_norm=True)  # no digits: nothing to scale by


def _tutorial_dcgan64(nz: int = 100, ngf: int = 64, ndf: int = 64, nc: int = 3) -> tuple[nn.Sequential, nn.Sequential]:
    """The PyTorch DCGAN tutorial's two networks (dcgan_faces_tutorial), written out here layer by layer as it lists
    them: the face checkpoints' architecture. Its D ends in a sigmoid, left off: ours returns the logit."""
    def up(c_in, c_out, stride, padding):
        return [nn.ConvTranspose2d(c_in, c_out, 4, stride, padding, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]

    def down(c_in, c_out, norm=True):
        return [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False), *([nn.BatchNorm2d(c_out)] if norm else []), nn.LeakyReLU(0.2)]
    G = nn.Sequential(*up(nz, ngf * 8, 1, 0), *up(ngf * 8, ngf * 4, 2, 1), *up(ngf * 4, ngf * 2, 2, 1),
                      *up(ngf * 2, ngf, 2, 1), nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh())
    D = nn.Sequential(*down(nc, ndf, norm=False), *down(ndf, ndf * 2), *down(ndf * 2, ndf * 4), *down(ndf * 4, ndf * 8),
                      nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False))
    return G, D


def test_the_64px_dcgan_is_the_pytorch_tutorials_layer_for_layer():
    """The face generators (bundled and on the Hub) are the tutorial's G: its layers, sizes, strides, no biases and
    its `main.N` names (a checkpoint loads strictly), and they compute what it computes, in training and in eval."""
    torch.manual_seed(0)
    G, D = DCGANGenerator64(), DCGANDiscriminator64()
    tutorial_g, tutorial_d = _tutorial_dcgan64()
    tutorial_g.load_state_dict({k.removeprefix("main."): v for k, v in G.state_dict().items()})
    tutorial_d.load_state_dict({k.removeprefix("main."): v for k, v in D.state_dict().items()})
    z, x = torch.randn(4, 100), torch.rand(4, 3, 64, 64) * 2 - 1
    for training in (True, False):  # the batch's statistics, then the running ones both kept
        for net in (G, D, tutorial_g, tutorial_d):
            net.train(training)
        torch.testing.assert_close(G(z), tutorial_g(z.view(4, 100, 1, 1)))
        torch.testing.assert_close(D(x), tutorial_d(x).view(-1))


def test_the_tuned_fnn_is_dense_layers_under_tanh_with_no_dropout_unless_asked():
    """What the registry's "mlp" builds, by the names its checkpoints keep (net.0, net.3, net.6): ReLU in G,
    LeakyReLU(0.2) in D, and by default no dropout, so training mode computes the same as eval."""
    torch.manual_seed(0)
    G, D = MLPGenerator().train(), MLPDiscriminator().train()
    z, x = torch.randn(5, 64), torch.rand(5, 1, 28, 28)
    want = torch.tanh(G.net[6](torch.relu(G.net[3](torch.relu(G.net[0](z))))))
    torch.testing.assert_close(G(z), want.view(5, 1, 28, 28))
    want = D.net[7](F.leaky_relu(D.net[4](F.leaky_relu(D.net[1](x.flatten(1)), 0.2)), 0.2)).squeeze(1)
    torch.testing.assert_close(D(x), want)


def test_the_face_exercise_pair_is_the_exercises_blocks():
    """The exercise's D: three blocks of a 3x3 convolution, max-pooling, ReLU and dropout (32, 64, 128 channels), then
    a dense layer of 256 with ReLU and dropout, and one score per image. Its G draws from the same 100-d noise as the
    face DCGANs, ends in tanh, and both refuse a size that three halvings do not divide."""
    torch.manual_seed(0)
    D = FaceExerciseDiscriminator().eval()
    assert [(m.in_channels, m.out_channels) for m in D.features if isinstance(m, nn.Conv2d)] == [(3, 32), (32, 64), (64, 128)]
    assert [(m.in_features, m.out_features) for m in D.classifier if isinstance(m, nn.Linear)] == [(128 * 8 * 8, 256), (256, 1)]
    x = torch.rand(2, 3, 64, 64)
    torch.testing.assert_close(D(x), D.classifier[4](torch.relu(D.classifier[1](D.features(x).flatten(1)))).squeeze(1))
    G = FaceExerciseGenerator().eval()
    assert G.z_dim == DCGANGenerator64().z_dim == 100
    with torch.no_grad():
        G.main[-2].weight.mul_(100)  # far past tanh's knee: what comes out is still in [-1, 1]
        out = G(torch.randn(2, 100))
    assert out.shape == (2, 3, 64, 64) and out.abs().max() <= 1 and out.abs().max() > 0.99
    for cls, what in ((FaceExerciseDiscriminator, "poolings"), (FaceExerciseGenerator, "unpoolings")):
        for size, shown in ((60, "60"), (10**25 + 1, "1" + "0" * 19)):  # a long value is cut to 20 characters
            with pytest.raises(ValueError) as e:
                cls(width=4, img_size=size)
            assert str(e.value) == f"img_size must be a multiple of 8 (three 2x {what}), got {shown}"


def test_register_makes_a_class_loadable_by_its_name(tmp_path):
    class TinyGenerator(models.GeneratorBase, PyTorchModelHubMixin):
        def __init__(self, z_dim: int = 3):
            super().__init__()
            self.z_dim, self.channels, self.img_size = z_dim, 1, 2
            self.fc = nn.Linear(z_dim, 4)

        def forward(self, z):
            return self.fc(z).view(-1, 1, 2, 2)
    assert models.register(TinyGenerator) is TinyGenerator
    try:
        assert models.ARCHITECTURES["TinyGenerator"] is TinyGenerator
        hub.save_model(TinyGenerator(), tmp_path, card="# tiny\n")
        assert type(hub.load_model(tmp_path)) is TinyGenerator
    finally:
        del models.ARCHITECTURES["TinyGenerator"]


def test_mixes_samples_finds_a_batch_norm_anywhere_in_the_net():
    """bench_switch splits the GANs by it: a D with batch norm (at any depth) computes each sample from the batch."""
    assert models.mixes_samples(DCGANDiscriminator28(width=4))
    assert models.mixes_samples(nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.BatchNorm1d(2))))
    assert not models.mixes_samples(DCGANDiscriminator28(width=4, norm="layer"))
    assert not models.mixes_samples(MLPDiscriminator(hidden=8))



def _randomise_norms(net: nn.Module) -> None:
    """Running statistics and scales away from 0 and 1, so that eval mode computes something a swapped norm would
    change."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.running_mean.uniform_(-0.5, 0.5), m.running_var.uniform_(0.5, 2)
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.GroupNorm, ClassBatchNorm)) and m.weight is not None:
                m.weight.uniform_(0.5, 1.5), m.bias.uniform_(-0.5, 0.5)


def _spec_norm(norm: nn.Module, h: torch.Tensor, labels) -> torch.Tensor:
    """A G norm in eval mode, from its tensors: batch norm by its running statistics, then its (per-class) scale."""
    if isinstance(norm, ClassBatchNorm):
        plain = F.batch_norm(h, norm.norm.running_mean, norm.norm.running_var, eps=1e-5)
        shape = (-1, h.shape[1]) + (1,) * (h.ndim - 2)
        return plain * norm.weight[labels].view(shape) + norm.bias[labels].view(shape)
    return F.batch_norm(h, norm.running_mean, norm.running_var, norm.weight, norm.bias, eps=1e-5)


@pytest.mark.parametrize("kw", [dict(), dict(num_classes=10), dict(num_classes=10, hidden=24, class_norm=True, hidden_layers=2),
                                dict(hidden=24, channels=3, img_size=32, dropout=0.25)])
def test_the_small_dcgan_generator_is_its_spec(kw):
    """The default model's G as the lesson draws it, computed here from its tensors alone with the spec's numbers:
    z (and the digit, one-hot) -> [dense, norm, ReLU] x hidden_layers -> dense to 2w maps of size/4, norm, ReLU ->
    transposed conv 4x4 stride 2 to w maps, norm, ReLU, dropout -> transposed conv 4x4 stride 2 to the image, tanh.
    Only the last convolution has a bias (a norm follows the others)."""
    torch.manual_seed(0)
    G = DCGANGenerator28(z_dim=16, width=8, **kw)
    _randomise_norms(G)
    G.eval()
    n, s, nc = 6, G.img_size // 4, kw.get("num_classes", 0)
    z, labels = torch.randn(n, 16), torch.tensor([3, 1, 4, 1, 5, 9])
    kinds = [type(m).__name__ for m in [*G.project, *G.main]]
    norm1 = "ClassBatchNorm" if kw.get("class_norm") else "BatchNorm1d"
    norm2 = "ClassBatchNorm" if kw.get("class_norm") else "BatchNorm2d"
    dense = (["Linear", norm1, "ReLU"] * kw.get("hidden_layers", 1)) if kw.get("hidden") else []
    assert kinds == [*dense, "Linear", norm1, "ReLU", "ConvTranspose2d", norm2, "ReLU", "Dropout", "ConvTranspose2d", "Tanh"]
    assert [m.p for m in G.main if isinstance(m, nn.Dropout)] == [kw.get("dropout", 0.0)]
    linears = [m for m in G.project if isinstance(m, nn.Linear)]
    norms = [m for m in G.project if not isinstance(m, (nn.Linear, nn.ReLU))]
    up1, up2 = (m for m in G.main if isinstance(m, nn.ConvTranspose2d))
    assert all(m.bias is None for m in (*linears, up1)) and up2.bias is not None
    h = torch.cat([z, F.one_hot(labels, nc).float()], 1) if nc else z
    for linear, norm in zip(linears, norms):
        h = F.relu(_spec_norm(norm, F.linear(h, linear.weight), labels))
    assert h.shape == (n, 2 * 8 * s * s)
    h = F.conv_transpose2d(h.view(n, 2 * 8, s, s), up1.weight, stride=2, padding=1)
    h = F.relu(_spec_norm(G.main[1], h, labels))
    want = torch.tanh(F.conv_transpose2d(h, up2.weight, up2.bias, stride=2, padding=1))
    assert want.shape == (n, kw.get("channels", 1), G.img_size, G.img_size)
    torch.testing.assert_close(G(z, labels) if nc else G(z), want)
    if nc:  # no digits asked for: the batch cycles through them, 0, 1, 2, ...
        torch.testing.assert_close(G(z[:3]), G(z[:3], torch.tensor([0, 1, 2])))


@pytest.mark.parametrize("kw", [dict(), dict(norm="none"), dict(norm="layer", num_classes=10, hidden=24, twin=True),
                                dict(num_classes=10, twin=True), dict(channels=3, img_size=32, dropout=0.25, hidden=24)])
def test_the_small_dcgan_discriminator_is_its_spec(kw):
    """The default model's D from its tensors alone: conv 4x4 stride 2 to w maps, LeakyReLU 0.2, dropout -> conv 4x4
    stride 2 to 2w maps (a bias only without a norm: batch norm, a one-group GroupNorm or none), LeakyReLU 0.2,
    dropout -> flatten -> [dense, LeakyReLU 0.2] -> one score; the class and twin heads read the features before it."""
    torch.manual_seed(0)
    D = DCGANDiscriminator28(width=8, **kw)
    _randomise_norms(D)
    D.eval()
    norm = kw.get("norm", "batch")
    hidden, nc = kw.get("hidden", 0), kw.get("num_classes", 0)
    kinds = [type(m).__name__ for m in D.main]
    norm_kind = {"batch": "BatchNorm2d", "layer": "GroupNorm", "none": "Identity"}[norm]
    assert kinds == ["Conv2d", "LeakyReLU", "Dropout", "Conv2d", norm_kind, "LeakyReLU", "Dropout", "Flatten",
                     *(["Linear", "LeakyReLU"] if hidden else []), "Linear"]
    assert [m.p for m in D.main if isinstance(m, nn.Dropout)] == [kw.get("dropout", 0.0)] * 2
    conv1, conv2 = (m for m in D.main if isinstance(m, nn.Conv2d))
    linears = [m for m in D.main if isinstance(m, nn.Linear)]
    assert conv1.bias is not None and (conv2.bias is not None) == (norm == "none")
    size = kw.get("img_size", 28)
    x = torch.rand(5, kw.get("channels", 1), size, size) * 2 - 1
    h = F.leaky_relu(F.conv2d(x, conv1.weight, conv1.bias, stride=2, padding=1), 0.2)
    h = F.conv2d(h, conv2.weight, conv2.bias, stride=2, padding=1)
    if norm == "batch":
        h = F.batch_norm(h, D.main[4].running_mean, D.main[4].running_var, D.main[4].weight, D.main[4].bias, eps=1e-5)
    elif norm == "layer":
        h = F.group_norm(h, 1, D.main[4].weight, D.main[4].bias, eps=1e-5)
    features = F.leaky_relu(h, 0.2).flatten(1)
    assert features.shape == (5, 2 * 8 * (size // 4) ** 2)
    if hidden:
        features = F.leaky_relu(F.linear(features, linears[0].weight, linears[0].bias), 0.2)
    score = F.linear(features, linears[-1].weight, linears[-1].bias).squeeze(1)
    torch.testing.assert_close(D(x), score)
    if nc:
        logit, classes, twin = D.forward_with_classes(x, twin=True)
        torch.testing.assert_close(classes, F.linear(features, D.classes.weight, D.classes.bias))
        torch.testing.assert_close(twin, F.linear(features, D.twin.weight, D.twin.bias))
    else:
        assert D.classes is None and D.twin is None


def test_the_small_dcgans_defaults_are_the_run_settings_defaults():
    """A config.json or a caller that leaves a size out gets what a run's settings give by default (TrainConfig:
    100-d noise, 64 maps), and a D ends in one score unless a dense layer is asked for."""
    from gan_core.config import TrainConfig
    cfg = TrainConfig()
    G, D = DCGANGenerator28(), DCGANDiscriminator28()
    assert (G.z_dim, G.width) == (cfg.z_dim, cfg.width) == (100, 64)
    assert G.project[0].in_features == 100 and D.main[0].out_channels == 64
    assert [(m.in_features, m.out_features) for m in models.score_layers(10)] == [(10, 1)]


def test_a_small_dcgan_refuses_what_it_cannot_build_in_plain_words():
    """Engine refusals a config.json from outside can reach (hub.load_model shows them): each says what is wrong."""
    with pytest.raises(ValueError, match=r"^class_norm needs a conditional generator \(num_classes > 0\)$"):
        DCGANGenerator28(width=4, class_norm=True)
    with pytest.raises(ValueError, match=r"^twin needs a conditional discriminator \(num_classes > 0\)$"):
        DCGANDiscriminator28(width=4, twin=True)
    assert DCGANGenerator28(width=4, hidden=8, hidden_layers=DCGANGenerator28.MAX_HIDDEN_LAYERS)  # the most it takes
    for bad in (0, DCGANGenerator28.MAX_HIDDEN_LAYERS + 1, 2.0, "2" * 30):
        with pytest.raises(ValueError) as e:
            DCGANGenerator28(width=4, hidden=8, hidden_layers=bad)
        assert str(e.value) == f"hidden_layers must be 1 to 4, not {str(bad)[:20]}"
    assert str(e.value).endswith("not " + "2" * 20)  # a long value is cut to 20 characters
    with pytest.raises(ValueError, match=r"^the small DCGAN takes 28 or 32 px images, not 64$"):
        DCGANGenerator28(img_size=64)
    with pytest.raises(ValueError) as e:
        DCGANDiscriminator28(img_size="9" * 30)
    assert str(e.value) == "the small DCGAN takes 28 or 32 px images, not " + "9" * 20
    with pytest.raises(ValueError) as e:
        DCGANDiscriminator28(norm="x" * 50)
    assert str(e.value) == f"norm must be one of ['batch', 'layer', 'none'], not {'x' * 40!r}"
