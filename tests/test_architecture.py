"""The layer tables the Architectures page shows agree with the real models, and the face-exercise
design is a real, trainable, saveable model."""
import pytest
import torch

from gan_core import registry
from gan_core.architecture import WORDS, Layer, class_sources, design, dummy_input, layer_table, output_shape, to_dot
from gan_core.progressive import Growing
from gan_core.vae import VAEEncoder
from gan_core.models import (ARCHITECTURES, FaceExerciseDiscriminator, FaceExerciseGenerator, GeneratorBase,
                             count_params)

# every (model, size) the Architectures page offers, as the trainer builds it
DESIGNS = [(name, size) for name in registry.offered("arch") for size in registry.get(name).sizes]


def _all_models():
    return [(f"{name}-{size}-{type(m).__name__}", m, size, registry.get(name).sizes[size])
            for name, size in DESIGNS for m in design(name, size)]


@pytest.mark.parametrize("case", _all_models(), ids=lambda c: c[0])
def test_layer_table_matches_model(case):
    _, model, size, channels = case
    x = dummy_input(model, img_size=size, channels=channels)
    rows = layer_table(model, x)
    expected = count_params(model)
    if isinstance(model, Growing):  # grown, it no longer runs the smaller resolutions' pixel layers
        unused = model.to_img if isinstance(model, GeneratorBase) else model.from_img
        expected -= sum(count_params(m) for m in list(unused)[:-1])
    assert sum(r.params for r in rows) == expected
    assert all(r.shape for r in rows)
    was = model.training
    model.eval()
    with torch.no_grad():
        out = model(x)
    model.train(was)
    assert output_shape(model, x) == tuple(out.shape[1:])
    if isinstance(model, GeneratorBase):
        assert output_shape(model) == (model.channels, model.img_size, model.img_size)
        assert rows[-1].kind == "Tanh"
        assert rows[-1].shape[-1] in (model.img_size, model.channels * model.img_size ** 2)
    elif isinstance(model, VAEEncoder):
        assert output_shape(model) == (model.main[-1].out_features,)  # mu and log-variance, side by side
    else:
        assert output_shape(model) == ()  # one score per image
    assert model.training == was  # the table leaves the model as it found it


def test_every_registered_architecture_is_on_the_page():
    # every GAN network (generators, discriminators, critics); the metrics' digit classifier is not one
    import gan_core.metrics  # noqa: F401  registers DigitClassifier, which must not count
    from gan_core.models import GeneratorBase
    gan = {n for n, c in ARCHITECTURES.items() if issubclass(c, GeneratorBase) or "Discriminator" in n}
    assert "DigitClassifier" not in gan and len(gan) >= 8
    shown = {type(m).__name__ for _, m, _, _ in _all_models()}
    assert gan <= shown


def test_designs_are_built_with_the_trainers_preset():
    """The page draws what the trainer trains: same classes, same width and conditioning, same norm."""
    from gan_core.training import TrainConfig, Trainer
    for name, size in DESIGNS:
        spec = registry.get(name)
        g, d = design(name, size)
        cfg = TrainConfig.preset(name, batch_size=2, n_fixed=2)
        labels = torch.zeros(4).long() if spec.conditional else None
        trainer = Trainer(cfg, torch.zeros(4, spec.sizes[size], size, size), device="cpu", labels=labels)
        assert (type(g), type(d)) == (type(trainer.G), type(trainer.D)), name
        assert g._hub_mixin_config == trainer.G._hub_mixin_config, name
        assert d._hub_mixin_config == trainer.D._hub_mixin_config, name
    assert registry.get("cdcgan").build(TrainConfig.preset("cdcgan"))[0].num_classes == 10
    critic = design("wgan-gp", 28)[1]
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in critic.modules())  # a per-sample penalty


def test_diagram_follows_the_shapes():
    g = FaceExerciseGenerator()
    dot = to_dot(layer_table(g), (g.z_dim,), output_shape(g))
    for shape in ("128×16×16", "64×32×32", "32×64×64", "3×64×64"):  # width 32, as the preset
        assert shape in dot
    assert dot.count("->") == dot.count("[label=") - 1  # one chain


def _defined(src: str) -> str:
    return next(line.split()[1].split("(")[0].rstrip(":") for line in src.splitlines() if line.startswith(("class ", "def ")))


def test_class_sources_list_what_the_class_runs_dependencies_first():
    g, _ = design("cdcgan")  # its G takes ClassBatchNorm, handed the labels by run_layers
    names = [_defined(s) for s in class_sources(type(g))]
    assert names[-1] == "DCGANGenerator28" and len(names) == len(set(names))
    assert {"ClassBatchNorm", "run_layers", "GeneratorBase"} <= set(names[:-1])
    assert "score_layers" not in names  # D's, not G's
    # its refusals are named where raised, not shown: an error class is not what a model runs
    assert "raise ModelConfigError(" in class_sources(type(g))[-1] and "ModelConfigError" not in names
    # the generator and its discriminator share _small_size: listed once
    both = [_defined(s) for s in class_sources(*map(type, design("cdcgan")))]
    assert both.count("_small_size") == 1 and both.index("score_layers") < both.index("DCGANDiscriminator28")
    # a class of another module: its helpers are found in its own module, and gan_core's only (not torch's)
    p_names = [_defined(s) for s in class_sources(type(design("progressive")[0]))]
    assert p_names[-1] == "ProgressiveGenerator" and len(p_names) > 1
    assert all(not n.startswith(("Conv", "Linear")) for n in p_names)
    # the notebook drops the Hub mixin through `transform`; the page keeps the class line as written
    hub = class_sources(type(g))[-1]
    assert "PyTorchModelHubMixin" in hub
    assert "PyTorchModelHubMixin" not in class_sources(type(g), transform=lambda s: s.replace(", PyTorchModelHubMixin", ""))[-1]


def test_the_digit_heads_branch_from_ds_features():
    """cdcgan's D: the score, AC-GAN's class head and TAC-GAN's twin all read the 256 features; the chain
    ends at the score (no reshape box after a head), each head a branch of its own, named in words."""
    d = design("cdcgan")[1]
    x = dummy_input(d)
    dot = to_dot(layer_table(d, x), (1, 28, 28), output_shape(d, x))
    assert 'n5 [label="Linear\\n1\\n257 params"]' in dot and "n6 [" not in dot
    features = next(line.split()[0] for line in dot.splitlines() if "\\n256\\n" in line)
    for i, head in enumerate(("classes", "twin")):
        assert f'b{i} [label="Linear · {WORDS[head]}\\n10\\n2,570 params"]' in dot and f"{features} -> b{i};" in dot


@pytest.mark.parametrize("name", ["mlp", "dcgan"])
def test_dropout_is_a_layer_only_where_it_drops(name):
    """The presets train without dropout, so the page must not draw a Dropout box in them (the models keep
    an nn.Dropout(0.0) slot for the option; the 28 px DCGAN's D, and mlp's G and D); with a rate it is a layer."""
    from gan_core.training import TrainConfig
    spec = registry.get(name)
    assert not spec.preset.get("dropout")
    for rate in (0.0, 0.3):
        nets = spec.build(TrainConfig.preset(name, dropout=rate), 1, 28)
        drawn = [r.kind for net in nets for r in layer_table(net, dummy_input(net, img_size=28, channels=1))]
        assert ("Dropout" in drawn) == (rate > 0), (name, rate, drawn)


def test_an_empty_slot_is_no_layer():
    """nn.Identity fills a slot that does nothing (WGAN-GP's critic has no norm, so its DCGAN critic's norm
    slot is one): the page drew "Conv2d + Identity + LeakyReLU" in its diagram. A norm that is there is drawn."""
    from gan_core.training import TrainConfig
    for name in registry.MODELS:
        spec = registry.get(name)
        size = next(iter(spec.sizes))
        nets = spec.build(TrainConfig.preset(name), spec.sizes[size], size)
        drawn = [r.kind for net in nets for r in layer_table(net, dummy_input(net, img_size=size, channels=spec.sizes[size]))]
        assert "Identity" not in drawn, (name, drawn)
    critics = {norm: registry.get("wgan-gp").build(TrainConfig.preset("wgan-gp", d_norm=norm), 1, 28)[1]
               for norm in ("none", "batch")}
    kinds = {norm: [r.kind for r in layer_table(d, dummy_input(d, img_size=28, channels=1))] for norm, d in critics.items()}
    assert kinds["batch"] == ["Conv2d", "LeakyReLU", "Conv2d", "BatchNorm2d", "LeakyReLU", "Flatten", "Linear", "LeakyReLU", "Linear"]
    assert kinds["none"] == [k for k in kinds["batch"] if k != "BatchNorm2d"]


def test_face_exercise_blocks():
    d = FaceExerciseDiscriminator()
    kinds = [r.kind for r in layer_table(d)]
    assert kinds[:12] == ["Conv2d", "MaxPool2d", "ReLU", "Dropout"] * 3
    assert "Dropout" in kinds[12:] and kinds[-1] == "Linear"
    g = FaceExerciseGenerator()
    kinds = [r.kind for r in layer_table(g)]
    assert kinds[2:17] == ["Upsample", "ConvTranspose2d", "ReLU", "Dropout", "BatchNorm2d"] * 3


def test_face_exercise_trains_saves_and_loads(tmp_path):
    from gan_core.cli import build_parser
    from gan_core.hub import load_model
    from gan_core.training import TrainConfig, Trainer

    assert build_parser().parse_args(["train", "--model", "face-exercise", "--out", "x", "--steps", "1"]).model == "face-exercise"
    cfg = TrainConfig.preset("face-exercise", batch_size=4, width=8, snapshot_every=1000)
    trainer = Trainer(cfg, torch.rand(8, 3, 64, 64) * 2 - 1, device="cpu")
    assert isinstance(trainer.G, FaceExerciseGenerator) and isinstance(trainer.D, FaceExerciseDiscriminator)
    m = trainer.step(2)[-1]
    assert {"d_real_acc", "d_fake_acc", "g_success"} <= set(m)  # the exercise's three curves
    trainer.save(tmp_path / "run")
    G = load_model(tmp_path / "run")
    assert isinstance(G, FaceExerciseGenerator) and cfg.channels_last
    G.to(memory_format=torch.channels_last)  # bit for bit in the run's layout (NCHW rounds differently: tests/test_training.py)
    assert torch.equal(G.generate(2, seed=3), trainer.G.generate(2, seed=3))


# ---------------------------------------------------------------- the diagram and the dummy pass, piece by piece

def test_the_diagram_folds_what_keeps_the_shape_into_the_box_before_and_reshapes_at_the_end():
    """A generator-like chain: a norm and an activation join the weighted layer before them (their weights added),
    a weighted layer or a resizer opens a box even at the same size, a shape change opens one, a box with no
    weights says none, and a forward that reshapes after its last layer ends in a reshape box."""
    rows = [Layer("fc", "Linear", (4096,), 413_696), Layer("bn", "BatchNorm1d", (4096,), 8_192),
            Layer("act", "ReLU", (4096,), 0), Layer("fc2", "Linear", (4096,), 16_781_312),
            Layer("up", "Upsample", (4096,), 0), Layer("bn2", "BatchNorm1d", (4096,), 8_192),
            Layer("pool", "AvgPool1d", (2048,), 0)]
    assert to_dot(rows, (100,), (2, 32, 32)) == "\n".join([
        "digraph G { rankdir=LR; bgcolor=transparent;",
        'node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontname="Helvetica", fontsize=10];',
        'n0 [label="input\\n100"];',
        'n1 [label="Linear + BatchNorm1d + ReLU\\n4096\\n421,888 params"];',
        'n2 [label="Linear\\n4096\\n16,781,312 params"];',
        'n3 [label="Upsample + BatchNorm1d\\n4096\\n8,192 params"];',
        'n4 [label="AvgPool1d\\n2048"];',
        'n5 [label="reshape\\n2×32×32"];',
        "n0 -> n1;", "n1 -> n2;", "n2 -> n3;", "n3 -> n4;", "n4 -> n5;}"])
    assert "reshape" not in to_dot(rows, (100,), (2048,))  # the forward returns the last layer's shape: no box


def test_the_diagram_branches_the_digit_heads_from_the_features_in_the_pages_words():
    """A D like the default model's: the score is the last box; AC-GAN's and the twin's heads branch from the
    features before it; the page's language names the input, the weights and the heads (English where it has none)."""
    rows = [Layer("conv", "Conv2d", (64, 14, 14), 1_088), Layer("act", "LeakyReLU", (64, 14, 14), 0),
            Layer("conv2", "Conv2d", (128, 7, 7), 131_200), Layer("flat", "Flatten", (6272,), 0),
            Layer("fc", "Linear", (256,), 1_605_888), Layer("bn", "BatchNorm1d", (256,), 512),
            Layer("act2", "LeakyReLU", (256,), 0), Layer("score", "Linear", (1,), 257),
            Layer("classes", "Linear", (10,), 2_570), Layer("twin", "Linear", (10,), 2_570)]
    words = {"input": "Eingabe", "params": "{n} Gewichte", "classes": "Ziffernkopf"}
    assert to_dot(rows, (1, 28, 28), (), rankdir="TB", words=words) == "\n".join([
        "digraph G { rankdir=TB; bgcolor=transparent;",
        'node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontname="Helvetica", fontsize=10];',
        'n0 [label="Eingabe\\n1×28×28"];',
        'n1 [label="Conv2d + LeakyReLU\\n64×14×14\\n1,088 Gewichte"];',
        'n2 [label="Conv2d\\n128×7×7\\n131,200 Gewichte"];',
        'n3 [label="Flatten\\n6272"];',
        'n4 [label="Linear + BatchNorm1d + LeakyReLU\\n256\\n1,606,400 Gewichte"];',
        'n5 [label="Linear\\n1\\n257 Gewichte"];',
        "n0 -> n1;", "n1 -> n2;", "n2 -> n3;", "n3 -> n4;", "n4 -> n5;",
        'b0 [label="Linear · Ziffernkopf\\n10\\n2,570 Gewichte"];', "n4 -> b0;",
        'b1 [label="Linear · twin digit head\\n10\\n2,570 Gewichte"];', "n4 -> b1;}"])


def test_the_dummy_pass_takes_the_input_it_is_given_and_sizes_one_from_the_class_otherwise():
    """Any module: no config of its own is a 64 px picture of one channel; the 28 px discriminators, as their
    classes are, even without their config; a given input is the one that runs."""
    conv = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3))
    assert dummy_input(conv).shape == (2, 1, 64, 64)
    assert layer_table(conv)[0].shape == (2, 62, 62) and output_shape(conv) == (2, 62, 62)
    small = torch.zeros(2, 1, 10, 10)
    assert layer_table(conv, small)[0].shape == (2, 8, 8) and output_shape(conv, small) == (2, 8, 8)
    from gan_core.models import DCGANDiscriminator28, DCGANDiscriminator64, MLPDiscriminator, SlidesDiscriminator
    from gan_core.progressive import ProgressiveDiscriminator
    for cls, size in ((DCGANDiscriminator28, 28), (MLPDiscriminator, 28), (SlidesDiscriminator, 28), (VAEEncoder, 28),
                      (ProgressiveDiscriminator, 28), (DCGANDiscriminator64, 64)):
        net = cls()
        net._hub_mixin_config = {}  # a class's own size, not its config's
        assert dummy_input(net).shape == (2, 1, size, size), cls.__name__


def test_a_layer_that_returns_a_tuple_is_recorded_by_its_first_output():
    class Recurrent(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = torch.nn.LSTM(4, 3, batch_first=True)  # returns (output, (h, c))

        def forward(self, x):
            return self.rnn(x)[0]

    (row,) = layer_table(Recurrent(), torch.zeros(2, 5, 4))
    assert (row.name, row.kind, row.shape, row.params) == ("rnn", "LSTM", (5, 3), 4 * 3 * (4 + 3 + 2))


def test_a_class_norm_is_one_row_not_its_inner_batch_norm():
    g, _ = design("cdcgan")
    kinds = [r.kind for r in layer_table(g)]
    assert "ClassBatchNorm" in kinds and not {"BatchNorm1d", "BatchNorm2d"} & set(kinds)


def test_a_progressive_design_stands_at_the_resolution_asked():
    """The page draws each phase of the growth: the nets stand at it, and run fewer layers the earlier it is."""
    rows = []
    for resolution in (7, 14, 28):
        g, d = design("progressive", resolution=resolution)
        assert g.resolution == d.resolution == resolution
        rows.append(len(layer_table(g)) + len(layer_table(d)))
    assert rows == sorted(set(rows))
