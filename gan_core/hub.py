"""Load and save models as Hugging Face folders: a local folder and a Hub repo id go through one call.

Only safetensors are read. A folder or repo that offers only pickles (pytorch_model.bin, *.pt)
is refused, because unpickling runs arbitrary code.
"""
import importlib
import inspect
import json
import os
import warnings
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .messages import GanError, Message
from .models import ARCHITECTURES

ALLOW = ["config.json", "*.safetensors", "model.safetensors.index.json", "README.md"]
# What a model folder may cost before anything is read or built: the face DCGAN has 3.6 M
# parameters (14 MB); these caps leave room for far bigger student models, and none for a
# config that asks for gigabytes (a free Space has 16 GB, shared by a whole class).
MAX_PARAMS = 50_000_000
MAX_WEIGHT_BYTES = 400 * 2**20
MAX_CONFIG_BYTES = 64 * 1024


class ModelLoadError(GanError, RuntimeError):
    """A clear, user-facing reason (a "hub.*" code) why a model could not be loaded; str() is English."""


def resolve(source, revision: str | None = None, local: bool = True) -> Path:
    """A local folder as is, else a Hub repo id downloaded (safetensors and config only) into the HF cache.

    local=False (a public server): `source` must be a Hub repo id; the server's own files are never
    looked at, so a visitor typing `/etc` learns nothing about them."""
    if not local:
        from huggingface_hub.utils import HFValidationError, validate_repo_id
        try:
            validate_repo_id(str(source))
        except HFValidationError as e:
            raise ModelLoadError("hub.bad_repo_id", source=str(source)) from e
        return _download(source, revision)
    path = Path(os.path.expanduser(str(source)))
    if path.exists():
        if not path.is_dir():
            raise ModelLoadError("hub.is_file", source=str(source))
        return path
    return _download(source, revision)


def _download(source, revision: str | None) -> Path:
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import (GatedRepoError, HFValidationError, LocalEntryNotFoundError,
                                        OfflineModeIsEnabled, RepositoryNotFoundError, RevisionNotFoundError)
    try:
        _check_remote_size(str(source), revision)
        # offline, the cache alone: huggingface_hub 1.x asks the network for a commit's file list even then
        return Path(snapshot_download(str(source), revision=revision, allow_patterns=ALLOW,
                                      local_files_only=constants.HF_HUB_OFFLINE))
    except ModelLoadError:
        raise
    except HFValidationError as e:
        raise ModelLoadError("hub.bad_repo_id", source=str(source)) from e
    except GatedRepoError as e:  # (a RepositoryNotFoundError too: test it first)
        raise ModelLoadError("hub.gated", source=str(source)) from e
    except RepositoryNotFoundError as e:
        raise ModelLoadError("hub.repo_not_found", source=str(source)) from e
    except RevisionNotFoundError as e:
        raise ModelLoadError("hub.revision_not_found", source=str(source), revision=revision) from e
    except (LocalEntryNotFoundError, OfflineModeIsEnabled, ConnectionError, TimeoutError, *_unreachable()) as e:
        raise ModelLoadError("hub.offline", source=str(source)) from e
    except Exception as e:  # anything else the Hub says: its own words, as a technical detail
        raise ModelLoadError("hub.fetch_failed", source=str(source), detail=f"{type(e).__name__}: {e}"[:300]) from e


def _unreachable() -> tuple[type, ...]:
    """The "no network" errors of huggingface_hub's HTTP library, which are not builtin ConnectionErrors:
    httpx's under huggingface_hub 1.x, httpx2's from 2.0 on (whichever are installed)."""
    errors = []
    for library in ("httpx2", "httpx"):
        try:
            module = importlib.import_module(library)
        except ImportError:
            continue
        errors += [module.ConnectError, module.TimeoutException]
    return tuple(errors)


def read_config(folder: Path, shown: str | None = None) -> dict:
    """config.json as a dict. `shown`: how messages name the folder (the source the user typed,
    never the Hugging Face cache path on the server)."""
    shown = shown or str(folder)
    cfg_path = folder / "config.json"
    if not cfg_path.exists():
        raise ModelLoadError("hub.no_config", folder=shown)
    if cfg_path.stat().st_size > MAX_CONFIG_BYTES:
        raise ModelLoadError("hub.bad_config_json", folder=shown, detail=f"larger than {MAX_CONFIG_BYTES // 1024} KB")
    try:
        cfg = json.loads(cfg_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
        raise ModelLoadError("hub.bad_config_json", folder=shown, detail=str(e)[:200]) from e
    if not isinstance(cfg, dict):
        raise ModelLoadError("hub.bad_config_json", folder=shown, detail=f"a {type(cfg).__name__}, not an object")
    return cfg


def read_weights(folder: Path, shown: str | None = None) -> dict:
    shown = shown or str(folder)
    single = folder / "model.safetensors"
    index = folder / "model.safetensors.index.json"
    size = sum(p.stat().st_size for p in folder.glob("*.safetensors"))
    if size > MAX_WEIGHT_BYTES:  # refused before a byte is read
        raise ModelLoadError("hub.too_large", folder=shown, mb=round(size / 2**20), limit_mb=MAX_WEIGHT_BYTES // 2**20)
    try:
        if single.exists():
            return load_file(single)
        if index.exists():  # sharded: keeps each file small enough for a Space without LFS
            state = {}
            for shard in sorted(set(json.loads(index.read_text())["weight_map"].values())):
                state.update(load_file(folder / shard))
            return state
    except (SafetensorError, OSError, ValueError, KeyError) as e:
        raise ModelLoadError("hub.corrupt_weights", folder=shown, detail=str(e)[:200]) from e
    pickles = [p.name for p in folder.iterdir() if p.suffix in (".bin", ".pt", ".pth", ".pkl", ".ckpt")]
    if pickles:
        raise ModelLoadError("hub.pickle_only", folder=shown, files=", ".join(pickles))
    raise ModelLoadError("hub.no_weights", folder=shown)


def load_model(source, revision: str | None = None, device=None, expect: type | None = None,
               local: bool = True) -> torch.nn.Module:
    """Build the class named in config.json and load its safetensors, strictly. Returns it in eval mode.

    The network is first built on the meta device (no memory): a config asking for more than
    MAX_PARAMS parameters is refused before anything is allocated."""
    folder = resolve(source, revision, local)
    shown = str(source)
    cfg = read_config(folder, shown)
    arch = cfg.pop("architecture", None)
    if arch not in ARCHITECTURES:
        raise ModelLoadError("hub.unknown_architecture", folder=shown, architecture=str(arch)[:80],
                             known=", ".join(sorted(ARCHITECTURES)))
    cls = ARCHITECTURES[arch]
    if expect is not None and not issubclass(cls, expect):
        raise ModelLoadError("hub.wrong_kind", source=shown, architecture=arch, expected=expect.__name__)
    # settings the class does not take are named, in the user's language (not Python's "unexpected keyword
    # argument"), unless it takes **kwargs: then they are its to read
    takes = inspect.signature(cls).parameters
    unknown = sorted(set(cfg) - set(takes))
    if unknown and not any(p.kind is p.VAR_KEYWORD for p in takes.values()):
        raise ModelLoadError("hub.config_unknown_keys", folder=shown, architecture=arch, keys=", ".join(unknown)[:200])
    try:
        with torch.device("meta"), warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Initializing zero-element tensors")  # refused just below, in words
            sizes = [p.numel() for p in cls(**cfg).parameters()]
    except GanError as e:  # the network's own refusal, a code: translated like any other
        raise ModelLoadError("hub.config_refused", folder=shown, architecture=arch, reason=e.message) from e
    except (TypeError, ValueError, RuntimeError) as e:  # a library's words (a wrong type, a negative size): quoted,
        first = str(e).partition("\n")[0]  # without the C++ stack torch may add below them
        raise ModelLoadError("hub.config_mismatch", folder=shown, architecture=arch, detail=first[:200]) from e
    if 0 in sizes:  # a width or size of 0 builds layers that hold nothing: not a network to load
        raise ModelLoadError("hub.config_refused", folder=shown, architecture=arch, reason=Message("model.empty_layer"))
    n_params = sum(sizes)
    if n_params > MAX_PARAMS:
        raise ModelLoadError("hub.too_many_params", folder=shown, architecture=arch, params=n_params, limit=MAX_PARAMS)
    model = cls(**cfg)
    state = read_weights(folder, shown)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        first = str(e).strip().splitlines()
        raise ModelLoadError("hub.weights_mismatch", folder=shown, architecture=f"{arch}{tuple(cfg.items())}",
                             detail=" ".join(first[:3])[:300]) from e
    model.source = shown
    return model.to(device or "cpu").eval()


def _check_remote_size(repo_id: str, revision: str | None) -> None:
    """Online, ask the Hub for the repo's file list and sizes before downloading, and refuse one whose
    weights exceed MAX_WEIGHT_BYTES. Offline (HF_HUB_OFFLINE) there is nothing to ask: the cached
    files are checked by read_weights before they are read."""
    from huggingface_hub import HfApi, constants
    if constants.HF_HUB_OFFLINE:
        return
    # (with a timeout: huggingface_hub's API calls have none, and a dead network would hang the page)
    info = HfApi().model_info(repo_id, revision=revision, files_metadata=True, timeout=constants.HF_HUB_ETAG_TIMEOUT)
    size = sum((f.size or 0) for f in info.siblings or [] if f.rfilename.endswith(".safetensors"))
    if size > MAX_WEIGHT_BYTES:
        raise ModelLoadError("hub.too_large", folder=repo_id, mb=round(size / 2**20), limit_mb=MAX_WEIGHT_BYTES // 2**20)


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
