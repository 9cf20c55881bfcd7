"""A run's config to and from JSON, and a trained generator as one zip download.

The config JSON is exactly `TrainConfig`'s fields, so a file downloaded from the app, written by
hand or produced by the CLI reproduces the run with the same seed. Reading it back is strict:
a typo in a key or a string where a number belongs is reported in words, never half-applied.
"""
import io
import json
import tempfile
import zipfile
from dataclasses import asdict, fields
from pathlib import Path

from .hub import save_model
from .training import MODELS, TrainConfig

# Values a reader may get wrong without Python noticing: the type must match, the number must be sane.
POSITIVE = {"z_dim", "width", "batch_size", "n_critic", "balance_window", "snapshot_every", "n_fixed",
            "max_snapshots", "lr_g", "lr_d"}
UNIT_INTERVAL = {"dropout", "d_acc_max", "g_success_max", "beta1", "beta2"}


class ConfigError(ValueError):
    """A config file the app cannot use, with the reason in plain words."""


def config_to_json(cfg: TrainConfig) -> str:
    return json.dumps(asdict(cfg), indent=2) + "\n"


def config_from_json(text: str | bytes) -> TrainConfig:
    """Parse and validate a run config; raises ConfigError naming the first problem found."""
    try:
        d = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"not valid JSON: {e}") from e
    if not isinstance(d, dict):
        raise ConfigError(f"expected a JSON object of settings, got a {type(d).__name__}")
    types = {f.name: type(f.default) for f in fields(TrainConfig)}
    unknown = sorted(set(d) - set(types))
    if unknown:
        raise ConfigError(f"unknown keys {unknown}; known keys are {sorted(types)}")
    for k, v in d.items():
        want = types[k]
        ok = (isinstance(v, bool) if want is bool else
              isinstance(v, int) and not isinstance(v, bool) if want is int else
              isinstance(v, (int, float)) and not isinstance(v, bool) if want is float else
              isinstance(v, want))
        if not ok:
            raise ConfigError(f"{k!r} must be {want.__name__}, got {json.dumps(v)}")
        if k in POSITIVE and not v > 0:
            raise ConfigError(f"{k!r} must be > 0, got {v}")
        if k in UNIT_INTERVAL and not 0 <= v <= 1:
            raise ConfigError(f"{k!r} must be between 0 and 1, got {v}")
    if d.get("model", "dcgan") not in MODELS:
        raise ConfigError(f"unknown model {d['model']!r}; choose one of {list(MODELS)}")
    return TrainConfig(**{k: float(v) if types[k] is float else v for k, v in d.items()})


def model_card(cfg: TrainConfig, steps: int, seconds: float, device: str, scores: dict | None = None) -> str:
    """The README that travels with the weights: data, how trained, how to load, limits."""
    lines = ["---", "library_name: gan-playground", "tags: [gan, mnist, gan-playground]",
             "license: cc-by-sa-3.0", "datasets: [mnist]", "---",
             f"# {cfg.model} MNIST generator (GAN Playground)", "",
             "Trained live in the GAN Playground app's *Train an MNIST GAN* page.", "",
             "- Data: MNIST 60k training images (Y. LeCun and C. Cortes, CC BY-SA 3.0), in [-1, 1].",
             f"- Training: {steps} steps, batch {cfg.batch_size}, {seconds:.1f} s on {device}.",
             f"- Latent: {cfg.z_dim}-d standard normal noise; output 1x28x28 in [-1, 1] (tanh).",
             "- Load: `from gan_core.hub import load_model; G = load_model('this-folder'); G.generate(64)`.",
             f"- Run config (reproduce with the app's config upload): `{json.dumps(asdict(cfg))}`"]
    if scores:
        lines.append(f"- Digit scores ({scores['n']} samples): {scores['confident_share']:.0%} confident digits, "
                     f"{scores['classes_covered']}/10 classes covered.")
    lines += ["- Limits: a small demo model trained for seconds to minutes; expect blurry or broken digits "
              "and possible mode collapse. Not for any real use.", ""]
    return "\n".join(lines)


def generator_zip(generator, card: str, name: str = "mnist-generator") -> bytes:
    """The generator as a zipped Hugging Face folder (config.json, model.safetensors, README.md)."""
    buf = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp:
        folder = save_model(generator, Path(tmp) / name, card)
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for p in sorted(folder.iterdir()):
                z.write(p, f"{name}/{p.name}")
    return buf.getvalue()
