"""The layer tables the Architectures page shows agree with the real models, and the face-exercise
design is a real, trainable, saveable model."""
import pytest
import torch

from gan_core.architecture import DESIGNS, dummy_input, layer_table, output_shape, to_dot
from gan_core.models import (ARCHITECTURES, FaceExerciseDiscriminator, FaceExerciseGenerator, GeneratorBase,
                             count_params)


def _all_models():
    return [build() for pair in DESIGNS.values() for build in pair]


@pytest.mark.parametrize("model", _all_models(), ids=lambda m: type(m).__name__)
def test_layer_table_matches_model(model):
    rows = layer_table(model)
    assert sum(r.params for r in rows) == count_params(model)
    assert all(r.shape for r in rows)
    was = model.training
    x = dummy_input(model)
    model.eval()
    with torch.no_grad():
        out = model(x)
    model.train(was)
    assert output_shape(model) == tuple(out.shape[1:])
    if isinstance(model, GeneratorBase):
        assert output_shape(model) == (model.channels, model.img_size, model.img_size)
        assert rows[-1].kind == "Tanh"
        assert rows[-1].shape[-1] in (model.img_size, model.channels * model.img_size ** 2)
    else:
        assert output_shape(model) == ()  # one score per image
    assert model.training == was  # the table leaves the model as it found it


def test_every_registered_architecture_is_on_the_page():
    # every GAN network (generators, discriminators, critics); the metrics' digit classifier is not one
    import gan_core.metrics  # noqa: F401  registers DigitClassifier, which must not count
    from gan_core.models import GeneratorBase
    gan = {n for n, c in ARCHITECTURES.items() if issubclass(c, GeneratorBase) or "Discriminator" in n}
    assert "DigitClassifier" not in gan and len(gan) >= 8
    shown = {type(m).__name__ for m in _all_models()}
    assert gan <= shown


def test_diagram_follows_the_shapes():
    g = FaceExerciseGenerator()
    dot = to_dot(layer_table(g), (g.z_dim,), output_shape(g))
    for shape in ("128×16×16", "64×32×32", "32×64×64", "3×64×64"):
        assert shape in dot
    assert dot.count("->") == dot.count("[label=") - 1  # one chain


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
    assert isinstance(G, FaceExerciseGenerator)
    assert torch.equal(G.generate(2, seed=3), trainer.G.generate(2, seed=3))
