"""gan_core.pipelines, the use-case layer the CLI and the pages share: each function returns what its front ends show
(the data, the shard, the run's summary and card, the generator's samples and scores, the style result), checked
against the engine call it composes. Small data and models: the mutation run (docs/testing.md) runs it per mutant."""
import io
import warnings
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from gan_core import pipelines
from gan_core.config import TrainConfig
from gan_core.data import DataError
from gan_core.messages import GanError
from gan_core.metrics import score_digits
from gan_core.models import DCGANGenerator28, MLPDiscriminator, MLPGenerator
from gan_core.pipelines import (TrainingData, conditional_classes, digit_labels, latent_frames, load_generator,
                                load_training_data, sample_images, save_run, score_generator, split_revision)
from gan_devkit.archives import make_zip, png


COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]


# ---------------------------------------------------------------- training data

def test_shape_is_the_image_size_then_the_channels():
    assert TrainingData(torch.zeros(2, 3, 32, 32)).shape == (32, 3)


def test_a_bundled_dataset_comes_in_the_model_range_with_its_labels_and_a_shard_is_every_worlds_item():
    full = load_training_data("mnist")
    assert (full.name, full.kind, full.notes, full.skipped) == ("mnist", "digits", [], [])
    assert full.images.shape[1:] == (1, 28, 28) and full.images.min() == -1 and full.images.max() == 1
    assert full.labels.dtype == torch.int64 and len(full.labels) == len(full.images)
    part = load_training_data("mnist", shard=(1, 3))
    assert torch.equal(part.images, full.images[1::3]) and torch.equal(part.labels, full.labels[1::3])
    fashion = load_training_data("fashion")  # labelled, but pictures: no digit labels for a conditional model
    assert fashion.labels is None and (fashion.kind, fashion.name) == ("images", "fashion")
    fashion_half = load_training_data("fashion", shard=(0, 2))
    assert fashion_half.labels is None and torch.equal(fashion_half.images, fashion.images[0::2])
    assert load_training_data("demo", 16, 1).shape == (16, 1)


@pytest.mark.parametrize("name", ["pics.zip", "PICS.ZIP", "upload.bin"])  # by its name, or by its first bytes
def test_a_zip_is_read_at_64_px_rgb_by_default_its_bad_files_skipped_and_said(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(make_zip([*((f"{i}.png", png(c)) for i, c in enumerate(COLOURS)),
                               ("broken.png", b"\x89PNG not really")]))
    d = load_training_data(str(path))
    assert d.images.shape == (3, 3, 64, 64) and d.labels is None and (d.name, d.kind) == (name, "images")
    assert [name for name, _ in d.skipped] == ["broken.png"]
    assert [(n.code, n.params) for n in d.notes] == [("data.read", {"read": 3, "skipped": 1, "root": str(path)})]
    assert d.images[0, :, 0, 0].tolist() == [1, -1, -1]  # red, in the model range
    from gan_core.uploads import UploadLimits
    capped = load_training_data(str(path), 8, 1, limits=UploadLimits(images=2))  # a public server's caps hold
    assert len(capped.images) == 2 and len(capped.skipped) == 2
    half = load_training_data(str(path), 8, 1, shard=(0, 2))
    assert half.images.shape == (2, 1, 8, 8) and torch.equal(half.images, load_training_data(str(path), 8, 1).images[0::2])


def test_a_folder_is_read_and_a_missing_one_or_a_word_that_names_nothing_says_which(tmp_path):
    for i, c in enumerate(COLOURS):
        (tmp_path / f"{i}.png").write_bytes(png(c))
    (tmp_path / "notes.png").write_bytes(b"not an image")
    d = load_training_data(str(tmp_path), 8, 3, shard=(1, 2))
    assert d.images.shape == (1, 3, 8, 8) and d.images[0, :, 0, 0].tolist() == [-1, 1, -1]  # 1.png: the 2nd of 4
    assert (d.name, d.kind, d.labels) == (tmp_path.name, "images", None)
    whole = load_training_data(str(tmp_path), 8, 3)
    assert len(whole.images) == 3 and whole.notes[0].params == {"read": 3, "skipped": 1, "root": str(tmp_path)}
    grey = load_training_data(str(tmp_path), 8, 1)
    assert grey.images.shape == (3, 1, 8, 8)
    with warnings.catch_warnings():  # the skipped file is in the note, in the front end's language: no English warning
        warnings.simplefilter("error")
        load_training_data(str(tmp_path), 8, 3)
    for missing in (str(tmp_path / "nowhere"), "nowhere/x"):  # a path, even a relative one of two parts
        with pytest.raises(GanError) as e:
            load_training_data(missing)
        assert e.value.code == "data.folder_not_found", missing
    (tmp_path / "bad.zip").write_bytes(b"not a zip at all")  # named a zip: read as one, and refused as one
    with pytest.raises(GanError) as e:
        load_training_data(str(tmp_path / "bad.zip"))
    assert e.value.code == "upload.not_zip"
    with pytest.raises(DataError) as e:
        load_training_data("mnsit")
    assert (e.value.code, e.value.params) == ("data.unknown", {"spec": "mnsit", "names": "mnist, fashion, demo"})


# ---------------------------------------------------------------- a run's end

@pytest.fixture(scope="module")
def trainer():
    from gan_core.training import Trainer
    data = load_training_data("mnist")
    cfg = TrainConfig.preset("mlp", batch_size=16, seed=3)
    t = Trainer(cfg, data.images[:256], device="cpu", labels=data.labels[:256])
    t.run(steps=3)
    return t


def test_save_run_writes_a_loadable_folder_and_returns_its_summary(trainer, tmp_path):
    summary = save_run(trainer, tmp_path / "run", score_n=40, seed=5)
    assert summary["scores"] == score_generator(trainer.generator, 40, seed=5)  # the run's G, on those seeds
    assert {k: summary[k] for k in ("out", "steps", "world_size")} == {"out": str(tmp_path / "run"), "steps": 3,
                                                                      "world_size": 1}
    assert summary["train_seconds"] == round(trainer.elapsed, 2)
    assert summary["steps_per_second"] == round(trainer.steps_per_second, 2)
    card = (tmp_path / "run" / "README.md").read_text()
    assert "- Training: 3 steps" in card and "40 samples" in card
    assert Image.open(tmp_path / "run" / "samples.png").size[0] > 28
    G = load_generator(str(tmp_path / "run"))
    assert torch.equal(G.generate(4, seed=1), trainer.generator.generate(4, seed=1))


def test_save_run_by_default_scores_2000_samples_of_seed_0_and_its_card_says_the_wall_time_the_device_and_processes(
        trainer, tmp_path, monkeypatch):
    import gan_core.device
    monkeypatch.setattr(gan_core.device, "describe", lambda device: f"<{device}>")
    summary = save_run(trainer, tmp_path / "run")
    assert summary["scores"] == score_generator(trainer.generator, 2000, seed=0)
    card = (tmp_path / "run" / "README.md").read_text()
    assert "s of training on <cpu>." in card and "wall" not in card
    from gan_core.data import to_uint8
    from gan_core.grid import make_grid
    h, w = make_grid(to_uint8(trainer.fixed_samples())).shape[:2]
    assert Image.open(tmp_path / "run" / "samples.png").size == (2 * w, 2 * h)  # each pixel shown 2 x 2
    monkeypatch.setattr(trainer, "world", 2)  # as rank 0 of two torchrun processes
    summary = save_run(trainer, tmp_path / "two", wall=12.5, score_n=0)
    card = (tmp_path / "two" / "README.md").read_text()
    assert summary["world_size"] == 2 and "(12.5 s wall) on <cpu> x 2 processes" in card


@pytest.mark.parametrize("data, score_n", [("fashion", 40), ("mnist", 0)])
def test_save_run_scores_digits_only_when_asked_and_only_for_mnist(trainer, tmp_path, data, score_n):
    summary = save_run(trainer, tmp_path / "run", data=data, score_n=score_n)
    assert summary["scores"] is None and "Digit scores" not in (tmp_path / "run" / "README.md").read_text()


SCORES = {"n": 9, "confident_share": 0.5, "classes_covered": 4}


def test_a_live_runs_generator_goes_out_with_the_card_of_the_config_it_started_from(trainer, tmp_path, monkeypatch):
    import gan_core.device
    monkeypatch.setattr(gan_core.device, "describe", lambda device: f"<{device}>")
    start = TrainConfig.preset("mlp", batch_size=64)  # the page's run changed its batch while it trained
    card = pipelines.generator_card(trainer, start, None, "mnist")
    assert "# mlp generator trained with the GAN Playground app\n" in card and "s of training on <cpu>." in card
    assert "Digit scores" not in card and "- Digit scores (9 samples): 50% confident digits, 4/10 classes covered" in \
        pipelines.generator_card(trainer, start, SCORES, "mnist")
    assert '"batch_size": 64' in card and '"batch_size": 16' not in card and "- Data: MNIST" in card
    assert "- Data: uploads/faces.zip." in pipelines.generator_card(trainer, start, None, "uploads/faces.zip")
    with zipfile.ZipFile(io.BytesIO(pipelines.generator_download(trainer, start, SCORES, "uploads/faces.zip"))) as z:
        assert sorted(z.namelist()) == ["faces-mlp/README.md", "faces-mlp/config.json", "faces-mlp/model.safetensors"]
        assert z.read("faces-mlp/README.md").decode() == pipelines.generator_card(trainer, start, SCORES,
                                                                                 "uploads/faces.zip")
    folder = pipelines.save_generator(trainer, start, SCORES, "uploads/faces.zip", tmp_path / "mine")
    assert (folder / "README.md").read_text() == pipelines.generator_card(trainer, start, SCORES, "uploads/faces.zip")
    assert torch.equal(load_generator(str(folder)).generate(2), trainer.generator.generate(2))


# ---------------------------------------------------------------- generators

def test_split_revision(tmp_path):
    assert split_revision("a/b@v1") == ("a/b", "v1")
    assert split_revision("a/b@") == ("a/b", None)
    assert split_revision("a/b@c@v2") == ("a/b@c", "v2")
    assert split_revision("a/b") == ("a/b", None)
    real = tmp_path / "run@3"
    real.mkdir()
    assert split_revision(str(real)) == (str(real), None)  # a folder whose name has an @
    assert split_revision(str(real), local=False) == (str(tmp_path / "run"), "3")  # a public server never looks


def test_load_generator_asks_the_hub_for_the_revision_in_the_source_or_the_one_given(monkeypatch, tmp_path):
    import gan_core.hub
    from gan_core.models import GeneratorBase
    asked = []
    monkeypatch.setattr(gan_core.hub, "load_model", lambda name, **kw: asked.append((name, kw)))
    load_generator("a/b@v1")
    load_generator("a/b@v1", revision="main", device="meta", local=False)
    (tmp_path / "run@3").mkdir()
    load_generator(str(tmp_path / "run@3"))  # a local folder with an @ in its name is that folder
    load_generator(str(tmp_path / "run@3"), local=False)  # ... except on a public server, which never looks
    assert asked == [("a/b", {"revision": "v1", "device": None, "expect": GeneratorBase, "local": True}),
                     ("a/b", {"revision": "main", "device": "meta", "expect": GeneratorBase, "local": False}),
                     (str(tmp_path / "run@3"), {"revision": None, "device": None, "expect": GeneratorBase, "local": True}),
                     (str(tmp_path / "run"), {"revision": "3", "device": None, "expect": GeneratorBase, "local": False})]


def test_load_generator_takes_generators_only(tmp_path):
    from gan_core.hub import save_model
    G = MLPGenerator(z_dim=8, hidden=16, img_size=28, channels=1)
    assert torch.equal(load_generator(str(save_model(G, tmp_path / "g"))).generate(3), G.generate(3))
    with pytest.raises(GanError) as e:
        load_generator(str(save_model(MLPDiscriminator(hidden=16, img_size=28, channels=1), tmp_path / "d")))
    assert e.value.code == "hub.wrong_kind" and e.value.params["expected"] == "GeneratorBase"
    with pytest.raises(GanError) as e:  # local=False: what a visitor types is a repo id, never a server path
        load_generator(str(tmp_path / "g"), local=False)
    assert e.value.code == "hub.bad_repo_id"


@pytest.fixture(scope="module")
def conditional():
    torch.manual_seed(0)
    return DCGANGenerator28(z_dim=8, width=8, num_classes=10)


def test_sample_images_draws_the_seeded_batch_and_the_digit_asked(conditional):
    from gan_core.data import to_uint8
    assert np.array_equal(sample_images(conditional, 3), to_uint8(conditional.generate(3, seed=0)))
    mixed = sample_images(conditional, 5, seed=2)
    assert mixed.dtype == np.uint8 and np.array_equal(mixed, to_uint8(conditional.generate(5, seed=2)))
    sevens = sample_images(conditional, 5, seed=2, digit=7)
    assert np.array_equal(sevens, to_uint8(conditional.generate(5, seed=2, labels=torch.full((5,), 7))))
    assert not np.array_equal(sevens, sample_images(conditional, 5, seed=2, digit=1))
    assert (conditional_classes(conditional), conditional_classes(MLPGenerator(z_dim=4, hidden=8))) == (10, 0)
    with pytest.raises(GanError) as e:
        sample_images(MLPGenerator(z_dim=4, hidden=8), 2, digit=3)
    assert e.value.code == "sample.not_conditional"


def test_digit_labels_refuses_what_is_not_one_of_the_digits():
    assert digit_labels("rows", 3, 4, per_row=2).tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert digit_labels("rows", 3, 2).tolist() == [0] * 8 + [1] * 8  # a row of 8 of each, by default
    assert digit_labels("mixed", 64, 10) is None  # the generator's own order
    random = digit_labels("random", 32, 10)
    assert torch.equal(random, digit_labels("random", 32, 10, seed=0)) and len(set(random.tolist())) > 5
    assert digit_labels(0, 2, 10).dtype == torch.long and digit_labels(9, 1, 10).tolist() == [9]
    assert not torch.equal(digit_labels("random", 32, 10, seed=1), digit_labels("random", 32, 10, seed=2))
    for bad in (True, -1, 10, 2.0, "7"):
        with pytest.raises(GanError) as e:
            digit_labels(bad, 4, 10)
        assert (e.value.code, e.value.params) == ("sample.bad_digit", {"digit": bad, "high": 9}), bad
    with pytest.raises(GanError) as e:
        digit_labels("mixed", 4, 0)
    assert e.value.code == "sample.not_conditional"


def test_score_generator_scores_digit_generators_and_refuses_others(conditional):
    assert score_generator(conditional, 30, seed=4) == score_digits(conditional.generate(30, seed=4))
    assert score_generator(conditional, 30, seed=4) != score_generator(conditional, 30, seed=5)
    assert score_generator(conditional) == score_digits(conditional.generate(2000, seed=0))
    with pytest.raises(GanError) as e:
        score_generator(MLPGenerator(z_dim=4, hidden=8, img_size=32, channels=3), 10)
    assert (e.value.code, e.value.params) == ("metrics.not_digits", {"channels": 3, "size": 32})
    with pytest.raises(GanError):
        score_generator(MLPGenerator(z_dim=4, hidden=8, img_size=32, channels=1), 10)


def test_latent_frames_render_the_spec_truncated_by_psi(conditional):
    from gan_core.latent import latent_batch, render, truncate
    G = MLPGenerator(z_dim=6, hidden=8)
    spec = ("path", 1, 2, 4, "lerp")
    frames = latent_frames(G, spec, psi=0.5)
    assert frames.shape == (4, 28, 28) and np.array_equal(frames, render(G, truncate(latent_batch(spec, 6), 0.5)))
    assert not np.array_equal(frames, latent_frames(G, spec))


# ---------------------------------------------------------------- style

@pytest.fixture(scope="module")
def style(root):
    from gan_core.style import StyleModels
    open_ = lambda p: Image.open(root / "assets/style" / p).convert("RGB")  # noqa: E731
    return StyleModels.load("cpu"), open_("content/chelsea.jpg"), open_("style/starry_night.jpg")


def test_adain_image_takes_pil_or_arrays_at_the_long_side_asked(style):
    models, content, art = style
    out = pipelines.adain_image(models, content, art, 40)
    assert out.dtype == np.uint8 and max(out.shape[:2]) == 40 and out.shape[2] == 3
    assert np.array_equal(out, pipelines.adain_image(models, np.asarray(content), np.asarray(art), 40))
    palette = content.resize((40, 27)).convert("P")  # a picture whose array is not its colours, read in colour
    assert np.array_equal(pipelines.adain_image(models, palette, art, 40),
                          pipelines.adain_image(models, palette.convert("RGB"), art, 40))
    assert not np.array_equal(out, pipelines.adain_image(models, content, art, 40, alpha=0.3))
    assert not np.array_equal(out, pipelines.adain_image(models, content, art, 40, preserve_color=True))
    with pytest.raises(ValueError, match="adain or gatys, not 'x'"):
        pipelines.stylize(models, content, art, "x")


class MetaModels:
    """Style networks on another device than the pictures' (meta: no GPU needed), recording what AdaIN is handed."""

    def __init__(self):
        self.encoder, self.seen = torch.nn.Linear(1, 1, device="meta"), []

    def adain(self, c, s, alpha, preserve_color):
        self.seen.append((c.device.type, tuple(c.shape), s.device.type, alpha, preserve_color))
        return torch.zeros(1, 3, 4, 4, device=c.device)


def test_the_pictures_go_to_the_device_the_networks_are_on(style, monkeypatch):
    _, content, art = style
    models = MetaModels()
    import gan_core.style
    monkeypatch.setattr(gan_core.style, "to_image", lambda x: x.device.type)
    assert pipelines.adain_image(models, content, art, 20) == "meta"
    pipelines.adain_image(models, content, art, 20, 0.5, True)
    assert models.seen == [("meta", (1, 3, 13, 20), "meta", 1.0, False), ("meta", (1, 3, 13, 20), "meta", 0.5, True)]
    monkeypatch.setattr(gan_core.style, "GatysTransfer", Transfer)
    job = pipelines.StyleJob(models, content, art, gan_core.style.GatysConfig(size=20))
    assert job.content == "meta" and [x.device.type for x in job.transfer.args[1:3]] == ["meta", "meta"]


class Transfer:
    """A stand-in for GatysTransfer that keeps what the job hands it and counts the steps it is asked for."""

    def __init__(self, encoder, c, s, cfg, init_image=None):
        self.args, self.init_image, self.runs, self.step_count, self.error = (encoder, c, s, cfg), init_image, [], 0, None

    def run(self, steps, callback, every, time_budget=None):
        self.runs.append((steps, callback, every, time_budget))
        self.step_count = min(steps, self.step_count + 2)

    def best_image(self):
        return "best"


def test_a_gatys_job_starts_from_adain_when_asked_and_advances_to_its_steps(style, monkeypatch):
    import gan_core.style
    from gan_core.style import GatysConfig
    models, content, art = style
    monkeypatch.setattr(gan_core.style, "GatysTransfer", Transfer)
    cfg = GatysConfig(size=24, init="adain")
    job = pipelines.StyleJob(models, content, art, cfg)
    encoder, c, s, given = job.transfer.args
    assert encoder is models.encoder and given is cfg and job.cfg is cfg and job.steps == 200
    assert torch.equal(c, pipelines._prepare(content, 24, "cpu")) and torch.equal(s, pipelines._prepare(art, 24, "cpu"))
    assert torch.equal(job.transfer.init_image, models.adain(c, s, 1.0, False))
    assert job.content.shape == (16, 24, 3) and np.array_equal(job.content, gan_core.style.to_image(c))
    tinted = pipelines.StyleJob(models, content, art, cfg, steps=3, alpha=0.5, preserve_color=True)
    assert torch.equal(tinted.transfer.init_image, models.adain(c, s, 0.5, True))
    assert pipelines.StyleJob(models, content, art, GatysConfig(size=24, init="content")).transfer.init_image is None
    assert pipelines.StyleJob(models, content, art).cfg == GatysConfig()
    assert tinted.advance(seconds=1.5) is True and tinted.transfer.runs == [(3, None, 10, 1.5)]
    assert tinted.advance(callback=print, every=1) is False and tinted.done and tinted.result() == "best"
    assert tinted.transfer.runs[-1] == (3, print, 1, None)
    stuck = pipelines.StyleJob(models, content, art, cfg, steps=3)
    stuck.transfer.error = "diverged"
    assert stuck.done


def test_stylize_is_adain_at_256_px_by_default_and_hands_a_gatys_job_its_settings(style, monkeypatch):
    from gan_core.style import GatysConfig
    models, content, art = style
    calls = []
    monkeypatch.setattr(pipelines, "adain_image", lambda *a: calls.append(a) or "adain")
    assert pipelines.stylize(models, content, art) == ("adain", None)
    pipelines.stylize(models, content, art, "adain", 64, alpha=0.2, preserve_color=True)
    assert calls == [(models, content, art, 256, 1.0, False), (models, content, art, 64, 0.2, True)]

    class Job:
        def __init__(self, *args):
            self.args, self.advanced = args, []

        def advance(self, **kw):
            self.advanced.append(kw)

        def result(self):
            return "gatys"
    monkeypatch.setattr(pipelines, "StyleJob", Job)
    image, job = pipelines.stylize(models, content, art, "gatys", size=40)
    assert image == "gatys" and job.args == (models, content, art, GatysConfig(size=40), 200, 1.0, False)
    assert job.advanced == [{"callback": None, "every": 10}]
    own = GatysConfig(size=12, init="content")
    _, job = pipelines.stylize(models, content, art, "gatys", 99, 5, 0.4, True, own, print, 2)
    assert job.args == (models, content, art, own, 5, 0.4, True) and job.advanced == [{"callback": print, "every": 2}]


def test_a_gatys_job_runs_to_its_steps_in_chunks_and_keeps_the_best(style):
    from gan_core.style import GatysConfig
    models, content, art = style
    cfg = GatysConfig(size=32, init="adain")
    job = pipelines.StyleJob(models, content, art, cfg, steps=3)
    assert job.content.shape[:2] == job.result().shape[:2] and max(job.content.shape[:2]) == 32
    assert not job.done and job.advance() is False and job.done and job.transfer.step_count == 3
    seen = []
    result, whole = pipelines.stylize(models, content, art, "gatys", size=32, steps=2,
                                      callback=seen.append, every=1)
    assert whole.done and whole.cfg.size == 32 and result.shape == whole.result().shape and len(seen) == 2
