"""What leaves with a trained generator: its model card, and the generator as one zip download.

One card for every front end (the CLI's `train` and the app's download button), so a model says
the same things wherever it was trained: data, steps, time, hardware, the exact config, scores.
"""
import io
import json
import tempfile
import zipfile
from dataclasses import asdict
from pathlib import Path

from .config import TrainConfig
from .hub import save_model

MNIST_NOTE = "MNIST 60k training images (Y. LeCun and C. Cortes, CC BY-SA 3.0), in [-1, 1]"


def batch_text(cfg: TrainConfig) -> str:
    """The run's batch in a card's words: "batch 64", or "batch 64 (128 from step 1,000)" where it grows at the cut."""
    grown = cfg.batch_at(cfg.lr_cut_at)
    return f"batch {cfg.batch_size}" + (f" ({grown} from step {cfg.lr_cut_at:,})" if grown != cfg.batch_size else "")


def training_card(cfg: TrainConfig, steps: int, seconds: float, device: str, data: str = "mnist",
                  scores: dict | None = None, wall: float | None = None, where: str = "gan_core",
                  processes: int = 1) -> str:
    """The README that travels with the weights (the Hub's convention: English): data, how trained, how to load, limits."""
    from .datasets import DATASETS
    bundled = DATASETS.get(data)  # a bundled dataset says where it comes from and its licence
    tags = f"[gan, {data}, gan-playground]" if bundled else "[gan, gan-playground]"
    lines = ["---", "library_name: gan-playground", f"tags: {tags}"]
    lines += [f"license: {bundled.licence}", f"datasets: [{'fashion_mnist' if data == 'fashion' else data}]"] if bundled else []
    lines += ["---", f"# {cfg.model} generator trained with {where}", "",
              f"- Data: {(MNIST_NOTE if data == 'mnist' else bundled.card) if bundled else data}.",
              f"- Training: {steps:,} steps, {batch_text(cfg)}, {seconds:.1f} s of training"
              + (f" ({wall:.1f} s wall)" if wall is not None else "") + f" on {device}"
              + (f" x {processes} processes (torchrun, DistributedDataParallel; world_size {processes}, "
                 f"{cfg.batch_size // processes} samples per process)" if processes > 1 else "") + ".",
              f"- Latent: {cfg.z_dim}-d standard normal noise; output in [-1, 1] (tanh).",
              "- Load: `from gan_core.hub import load_model; G = load_model('this-folder'); G.generate(64)`.",
              f"- Run config (reproduce with `TrainConfig.from_json` or the app's config upload): `{json.dumps(asdict(cfg))}`"]
    if scores:
        lines.append(f"- Digit scores ({scores['n']} samples): {scores['confident_share']:.0%} confident digits, "
                     f"{scores['classes_covered']}/10 classes covered: `{json.dumps(scores)}`")
    lines += ["- Limits: a small demo model trained for seconds to minutes; expect blurry or broken samples "
              "and possible mode collapse. Not for any real use.", ""]
    return "\n".join(lines)


def generator_zip(generator, card: str, name: str) -> bytes:
    """The generator as a zipped Hugging Face folder (config.json, model.safetensors, README.md)."""
    buf = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp:
        folder = save_model(generator, Path(tmp) / name, card)
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for p in sorted(folder.iterdir()):
                z.write(p, f"{name}/{p.name}")
    return buf.getvalue()
