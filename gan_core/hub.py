"""Load and save models as Hugging Face folders: a local folder and a Hub repo id go through one call.

Only safetensors are read. A folder or repo that offers only pickles (pytorch_model.bin, *.pt)
is refused, because unpickling runs arbitrary code.
"""
import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .messages import GanError
from .models import ARCHITECTURES

ALLOW = ["config.json", "*.safetensors", "model.safetensors.index.json", "README.md"]


class ModelLoadError(GanError, RuntimeError):
    """A clear, user-facing reason (a "hub.*" code) why a model could not be loaded; str() is English."""


def resolve(source, revision: str | None = None) -> Path:
    """A local folder as is, else a Hub repo id downloaded (safetensors and config only) into the HF cache."""
    path = Path(os.path.expanduser(str(source)))
    if path.exists():
        if not path.is_dir():
            raise ModelLoadError("hub.is_file", source=str(source))
        return path
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (GatedRepoError, HFValidationError, LocalEntryNotFoundError,
                                        OfflineModeIsEnabled, RepositoryNotFoundError, RevisionNotFoundError)

    try:
        return Path(snapshot_download(str(source), revision=revision, allow_patterns=ALLOW))
    except HFValidationError as e:
        raise ModelLoadError("hub.bad_repo_id", source=str(source)) from e
    except GatedRepoError as e:  # (a RepositoryNotFoundError too: test it first)
        raise ModelLoadError("hub.gated", source=str(source)) from e
    except RepositoryNotFoundError as e:
        raise ModelLoadError("hub.repo_not_found", source=str(source)) from e
    except RevisionNotFoundError as e:
        raise ModelLoadError("hub.revision_not_found", source=str(source), revision=revision) from e
    except (LocalEntryNotFoundError, OfflineModeIsEnabled, ConnectionError, TimeoutError) as e:
        raise ModelLoadError("hub.offline", source=str(source)) from e
    except Exception as e:  # anything else the Hub says: its own words, as a technical detail
        raise ModelLoadError("hub.fetch_failed", source=str(source), detail=f"{type(e).__name__}: {e}"[:300]) from e


def read_config(folder: Path) -> dict:
    cfg_path = folder / "config.json"
    if not cfg_path.exists():
        raise ModelLoadError("hub.no_config", folder=str(folder))
    try:
        return json.loads(cfg_path.read_text())
    except json.JSONDecodeError as e:
        raise ModelLoadError("hub.bad_config_json", folder=str(folder), detail=str(e)) from e


def read_weights(folder: Path) -> dict:
    single = folder / "model.safetensors"
    index = folder / "model.safetensors.index.json"
    try:
        if single.exists():
            return load_file(single)
        if index.exists():  # sharded: keeps each file small enough for a Space without LFS
            state = {}
            for shard in sorted(set(json.loads(index.read_text())["weight_map"].values())):
                state.update(load_file(folder / shard))
            return state
    except (SafetensorError, OSError, ValueError, KeyError) as e:
        raise ModelLoadError("hub.corrupt_weights", folder=str(folder), detail=str(e)) from e
    pickles = [p.name for p in folder.iterdir() if p.suffix in (".bin", ".pt", ".pth", ".pkl", ".ckpt")]
    if pickles:
        raise ModelLoadError("hub.pickle_only", folder=str(folder), files=", ".join(pickles))
    raise ModelLoadError("hub.no_weights", folder=str(folder))


def load_model(source, revision: str | None = None, device=None, expect: type | None = None) -> torch.nn.Module:
    """Build the class named in config.json and load its safetensors, strictly. Returns it in eval mode."""
    folder = resolve(source, revision)
    cfg = read_config(folder)
    arch = cfg.pop("architecture", None)
    if arch not in ARCHITECTURES:
        raise ModelLoadError("hub.unknown_architecture", folder=str(folder), architecture=arch,
                             known=", ".join(sorted(ARCHITECTURES)))
    cls = ARCHITECTURES[arch]
    if expect is not None and not issubclass(cls, expect):
        raise ModelLoadError("hub.wrong_kind", source=str(source), architecture=arch, expected=expect.__name__)
    try:
        model = cls(**cfg)
    except TypeError as e:
        raise ModelLoadError("hub.config_mismatch", folder=str(folder), architecture=arch, detail=str(e)) from e
    state = read_weights(folder)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        first = str(e).strip().splitlines()
        raise ModelLoadError("hub.weights_mismatch", folder=str(folder), architecture=f"{arch}{tuple(cfg.items())}",
                             detail=" ".join(first[:3])) from e
    model.source = str(source)
    return model.to(device or "cpu").eval()


def init_config(model: torch.nn.Module) -> dict:
    """The __init__ arguments PyTorchModelHubMixin captured, plus the class name to rebuild it."""
    cfg = dict(getattr(model, "_hub_mixin_config", None) or {})
    return {"architecture": type(model).__name__, **cfg}


def save_model(model: torch.nn.Module, folder, card: str | None = None, max_shard_bytes: int | None = None) -> Path:
    """Write config.json + model.safetensors (+ README.md model card) into `folder`.

    With `max_shard_bytes`, weights larger than that are split into model-0000k-of-0000n.safetensors
    plus model.safetensors.index.json (the transformers layout), so every file stays small enough
    for a git push to a Space without LFS while the weights stay exact fp32.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(init_config(model), indent=2) + "\n")
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    shards = _split(state, max_shard_bytes) if max_shard_bytes else [state]
    for stale in [folder / "model.safetensors", folder / "model.safetensors.index.json", *folder.glob("model-*-of-*.safetensors")]:
        stale.unlink(missing_ok=True)
    if len(shards) == 1:
        save_file(state, folder / "model.safetensors", metadata={"format": "pt"})
    else:
        weight_map = {}
        for i, shard in enumerate(shards, 1):
            name = f"model-{i:05d}-of-{len(shards):05d}.safetensors"
            save_file(shard, folder / name, metadata={"format": "pt"})
            weight_map.update({k: name for k in shard})
        total = sum(v.numel() * v.element_size() for v in state.values())
        index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
        (folder / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n")
    if card is not None:
        (folder / "README.md").write_text(card)
    return folder


def _split(state: dict, max_bytes: int) -> list[dict]:
    """Greedy, order-preserving split of a state dict into shards of at most max_bytes (one tensor may exceed it)."""
    shards, current, size = [], {}, 0
    for k, v in state.items():
        n = v.numel() * v.element_size()
        if current and size + n > max_bytes:
            shards.append(current)
            current, size = {}, 0
        current[k] = v
        size += n
    if current:
        shards.append(current)
    return shards
