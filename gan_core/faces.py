"""The two face generators of the latent page: where they come from, and the fallback when the Hub fails.

Each model has a bundled folder in checkpoints/ and an optional Hub repo id from an environment
variable (GAN_FACE_DCGAN_REPO, GAN_FACE_WGAN_REPO) or from the page's text box. A repo id may
name a revision as `owner/name@revision`. If the repo cannot be loaded (offline, unknown, pickle
only, wrong shapes) we load the bundled folder instead and return the reason, so the page can say
what happened instead of failing.
"""
import os
from dataclasses import dataclass
from pathlib import Path

from .hub import ModelLoadError, load_model
from .messages import Message
from .models import GeneratorBase
from .pipelines import load_generator

CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"


@dataclass(frozen=True)
class FaceModel:
    key: str        # short id used in the UI and the CLI
    label: str
    bundled: Path   # the folder shipped in the repo
    env: str        # environment variable that may hold a Hub repo id


FACE_MODELS = {
    "dcgan": FaceModel("dcgan", "DCGAN", CHECKPOINTS / "face-dcgan", "GAN_FACE_DCGAN_REPO"),
    "wgan-gp": FaceModel("wgan-gp", "WGAN-GP", CHECKPOINTS / "face-wgan-gp", "GAN_FACE_WGAN_REPO"),
}


def default_source(key: str) -> str:
    """The env var's repo id if set, else '' (meaning: the bundled folder)."""
    return os.environ.get(FACE_MODELS[key].env, "").strip()


def short(source: str) -> str:
    """A bundled folder relative to the repo (checkpoints/face-dcgan), anything else as given."""
    path = Path(source)
    return str(path.relative_to(CHECKPOINTS.parent)) if path.is_absolute() and path.is_relative_to(CHECKPOINTS.parent) else source


@dataclass
class Loaded:
    model: GeneratorBase
    source: str              # what was actually loaded
    note: Message | None = None  # why the requested source was not used (a "hub.*" message), if it was not


def load_face_model(key: str, source: str | None = None, local: bool = True) -> Loaded:
    """`source` (folder, repo id or repo@revision; None -> env var; '' -> bundled), with fallback to the bundled folder."""
    fm = FACE_MODELS[key]
    source = default_source(key) if source is None else source.strip()
    note = None
    if source:
        try:
            return Loaded(load_generator(source, local=local), source)
        except ModelLoadError as e:
            note = e.message
    return Loaded(load_model(fm.bundled, expect=GeneratorBase), str(fm.bundled), note)
