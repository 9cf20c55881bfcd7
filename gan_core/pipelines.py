"""The use cases both front ends need, each written once (in the spirit of diffusers' pipelines).

Models know nothing about loops, files or front ends; these functions compose them and return data.
`gan_core.cli` and the app's `ui/` are thin adapters over them: no default, loop or conversion is
written twice. What a person reads comes back as data or a GanError with a message code.

    train data  -> load_training_data()      (a bundled dataset, a .zip or a folder)  a run's end -> save_run() / generator_download()
    a generator -> load_generator(), sample_images(), score_generator(), latent_frames()
    the digits  -> digit_labels()            what a conditional generator is asked to draw
    style       -> adain_image(), StyleJob (Gatys: advance in chunks, stop any time, keep the best)
"""
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .messages import GanError, Message

# ---------------------------------------------------------------- training


@dataclass
class TrainingData:
    images: torch.Tensor                 # (N, C, H, W) in [-1, 1]
    labels: torch.Tensor | None = None   # (N,) digit labels when the data has them (MNIST)
    notes: list[Message] = field(default_factory=list)
    name: str = "mnist"                  # a gan_core.datasets name, else what the user gave (zip, folder)
    kind: str = "digits"                 # "digits" or "images": which models the registry offers for it
    skipped: list = field(default_factory=list)  # (file, Message why) of what was not read

    @property
    def shape(self) -> tuple[int, int]:
        """(image size, channels)."""
        return self.images.shape[-1], self.images.shape[1]


def load_training_data(spec: str, img_size: int | None = None, channels: int | None = None,
                       shard: tuple[int, int] | None = None, limits=None) -> TrainingData:
    """A bundled dataset's name (gan_core.datasets: 'mnist', 'fashion', 'demo'), a .zip of images or a
    folder -> the images at img_size x img_size with `channels` (the dataset's own by default; 64 px RGB
    for zips and folders), with labels for MNIST. A zip is read under uploads.UploadLimits `limits`.
    shard=(rank, world): only items rank, rank + world, ... (a torchrun rank's part; a folder's other
    files are never opened)."""
    from .data import load_image_folder, to_model_range
    from .datasets import DATASETS, load_dataset
    from .distributed import shard as cut
    if spec in DATASETS:
        d = DATASETS[spec]
        images, labels = load_dataset(spec, img_size, channels)
        x = to_model_range(images)
        y = torch.from_numpy(labels.astype("int64")) if labels is not None and d.kind == "digits" else None
        if shard:
            x, y = cut(x, *shard), (cut(y, *shard) if y is not None else None)
        return TrainingData(x, y, name=spec, kind=d.kind)
    size, channels = img_size or 64, channels or 3
    path = Path(spec)
    if path.suffix.lower() == ".zip" or (path.is_file() and path.open("rb").read(4) == b"PK\x03\x04"):
        from .uploads import read_zip
        found = read_zip(path, size, channels, limits)
        images, skipped = to_model_range(found.images), found.skipped
        if shard:
            images = cut(images, *shard)
    elif path.is_dir() or len(path.parts) > 1:  # a path: a missing folder says so (load_image_folder)
        # the note below says what was skipped, in the front end's language
        folder = load_image_folder(spec, size=size, channels=channels, shard=shard, warn=False)
        images, skipped = folder.tensor, folder.skipped
    else:  # a bare word that names nothing: list what it could have been
        from .data import DataError
        raise DataError("data.unknown", spec=spec, names=", ".join(DATASETS))
    return TrainingData(images, None, [Message("data.read", {"read": len(images), "skipped": len(skipped), "root": spec})],
                        name=path.name, kind="images", skipped=skipped)


def save_run(trainer, out, data: str = "mnist", wall: float | None = None, score_n: int = 2000, seed: int = 0) -> dict:
    """A finished run as a loadable folder: generator + card + discriminator + state, samples.png, and
    (for digit data, score_n > 0) the digit classifier's scores. Returns the run's summary."""
    from .data import to_uint8
    from .device import describe
    from .export import training_card
    from .grid import make_grid, to_pil
    out = Path(out)
    scores = None
    if score_n and data == "mnist" and tuple(trainer.data.shape[1:]) == (1, 28, 28):  # the classifier knows digits only
        scores = score_generator(trainer.generator, score_n, seed)
    card = training_card(trainer.cfg, trainer.iteration, trainer.elapsed, str(describe(trainer.device)), data,
                         scores, wall, processes=trainer.world)
    trainer.save(out, card)
    to_pil(make_grid(to_uint8(trainer.fixed_samples())), scale=2).save(out / "samples.png")
    return {"out": str(out), "steps": trainer.iteration, "train_seconds": round(trainer.elapsed, 2),
            "steps_per_second": round(trainer.steps_per_second, 2), "scores": scores, "world_size": trainer.world}


def generator_card(trainer, start_cfg, scores: dict | None, data: str) -> str:
    """The model card of a live run's generator, with the config it started from."""
    from .device import describe
    from .export import training_card
    return training_card(start_cfg, trainer.iteration, trainer.elapsed, str(describe(trainer.device)), data, scores,
                         where="the GAN Playground app")


def generator_download(trainer, start_cfg, scores: dict | None, data: str) -> bytes:
    """The generator of a live run as a zipped Hugging Face folder, with the card of the config it started from."""
    from .export import generator_zip
    return generator_zip(trainer.generator, generator_card(trainer, start_cfg, scores, data),
                         f"{Path(data).stem}-{trainer.cfg.model}")


def save_generator(trainer, start_cfg, scores: dict | None, data: str, folder) -> Path:
    """The generator of a live run as a Hugging Face folder on disk (a session's own folder: the latent
    page then loads it like any other source, through hub.load_model's safetensors-only path)."""
    from .hub import save_model
    return save_model(trainer.generator, folder, generator_card(trainer, start_cfg, scores, data))


# ---------------------------------------------------------------- generators


def split_revision(source: str, local: bool = True) -> tuple[str, str | None]:
    """'owner/name@v1' -> ('owner/name', 'v1'); a local path keeps any '@' it really has (local=False:
    never look at the server's files)."""
    if "@" in source and not (local and Path(source).exists()):
        name, rev = source.rsplit("@", 1)
        return name, rev or None
    return source, None


def load_generator(source: str, revision: str | None = None, device=None, local: bool = True):
    """A generator from a folder, a Hub repo id or `owner/name@revision` (an explicit revision wins).
    local=False: Hub repo ids only (a public server never reads a path a visitor typed)."""
    from .hub import load_model
    from .models import GeneratorBase
    name, rev = split_revision(str(source), local)
    return load_model(name, revision=revision or rev, device=device, expect=GeneratorBase, local=local)


def sample_images(G, n: int, seed: int = 0, digit: int | None = None) -> np.ndarray:
    """uint8 samples (N, H, W) or (N, H, W, 3) from a seeded noise batch; `digit`: a conditional
    generator draws that digit in every sample (refused, with a message code, by any other generator)."""
    from .data import to_uint8
    labels = None if digit is None else digit_labels(digit, n, conditional_classes(G))
    return to_uint8(G.generate(n, seed=seed, labels=labels))


def conditional_classes(G) -> int:
    """How many digits (classes) a conditional generator can be asked for; 0 for any other generator."""
    return int(getattr(G, "num_classes", None) or 0)


DRAWS = ("rows", "random", "mixed")  # besides one digit (an int): see digit_labels


def digit_labels(draw, n: int, num_classes: int, seed: int = 0, per_row: int = 8) -> torch.Tensor | None:
    """What a conditional generator draws: a digit (int) -> n of it; "rows" -> a row of `per_row` for each
    digit (num_classes * per_row labels); "random" -> n seeded random digits (the same every call);
    "mixed" -> None (the generator's own order: each digit in turn)."""
    if not num_classes:
        raise GanError("sample.not_conditional")
    if draw == "mixed":
        return None
    if draw == "rows":
        return torch.arange(num_classes).repeat_interleave(per_row)
    if draw == "random":
        return torch.randint(num_classes, (n,), generator=torch.Generator().manual_seed(seed))
    if isinstance(draw, bool) or not isinstance(draw, int) or not 0 <= draw < num_classes:
        raise GanError("sample.bad_digit", digit=draw, high=num_classes - 1)
    return torch.full((n,), draw)  # an int fill: int64, as the labels are


def score_generator(G, n: int = 2000, seed: int = 0) -> dict:
    """The bundled digit classifier's scores of n samples; only for 28x28 grey generators."""
    from .metrics import score_digits
    if (G.channels, G.img_size) != (1, 28):
        raise GanError("metrics.not_digits", channels=G.channels, size=G.img_size)
    return score_digits(G.generate(n, seed=seed))


def latent_frames(G, spec: tuple, psi: float = 1.0) -> np.ndarray:
    """uint8 images of G along a latent spec (see gan_core.latent.latent_batch), truncated by psi."""
    from .latent import latent_batch, render, truncate
    return render(G, truncate(latent_batch(spec, G.z_dim), psi))


# ---------------------------------------------------------------- style transfer


def _prepare(image, size: int, device) -> torch.Tensor:
    from PIL import Image

    from .style import resize_long_side, to_tensor
    im = image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image))
    return to_tensor(resize_long_side(im, size), device)


def _device(models):
    return next(models.encoder.parameters()).device


def adain_image(models, content, style, size: int, alpha: float = 1.0, preserve_color: bool = False) -> np.ndarray:
    """AdaIN at once: content and style (PIL or uint8 arrays) -> uint8 result, long side `size`."""
    from .style import to_image
    dev = _device(models)
    return to_image(models.adain(_prepare(content, size, dev), _prepare(style, size, dev), alpha, preserve_color))


class StyleJob:
    """A Gatys style transfer that advances in chunks: the CLI runs it to the end, the page a second
    per tick, and Stop (or any click) lands between steps with the best image so far kept."""

    def __init__(self, models, content, style, cfg=None, steps: int = 200, alpha: float = 1.0,
                 preserve_color: bool = False):
        from .style import GatysConfig, GatysTransfer, to_image
        self.cfg = cfg or GatysConfig()
        self.steps = steps
        dev = _device(models)
        c, s = _prepare(content, self.cfg.size, dev), _prepare(style, self.cfg.size, dev)
        init = models.adain(c, s, alpha, preserve_color).clone() if self.cfg.init == "adain" else None
        self.transfer = GatysTransfer(models.encoder, c, s, self.cfg, init_image=init)
        self.content = to_image(c)  # what the result is shown next to

    def advance(self, seconds: float | None = None, callback=None, every: int = 10) -> bool:
        """Run up to the job's steps (or `seconds`); True while there is more to do."""
        self.transfer.run(self.steps, callback, every, time_budget=seconds)
        return not self.done

    @property
    def done(self) -> bool:
        return self.transfer.step_count >= self.steps or bool(self.transfer.error)

    def result(self) -> np.ndarray:
        return self.transfer.best_image()


def stylize(models, content, style, method: str = "adain", size: int = 256, steps: int = 200, alpha: float = 1.0,
            preserve_color: bool = False, cfg=None, callback=None, every: int = 10):
    """One call for the CLI: -> (uint8 result, the StyleJob for Gatys or None for AdaIN)."""
    if method == "adain":
        return adain_image(models, content, style, size, alpha, preserve_color), None
    if method != "gatys":
        raise ValueError(f"method must be adain or gatys, not {method!r}")
    from .style import GatysConfig
    job = StyleJob(models, content, style, cfg or GatysConfig(size=size), steps, alpha, preserve_color)
    job.advance(callback=callback, every=every)
    return job.result(), job

