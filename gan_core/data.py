"""Datasets: the committed full MNIST, and any folder of images.

GAN training on small images is bound by the model, not by I/O, so both datasets are held in
memory as one tensor in [-1, 1] and batches are drawn by random index (no DataLoader workers,
which on a 2-core laptop would only steal cores from the training step).
"""
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .image_io import ImageLoadError, load_image
from .messages import GanError

MNIST_DIR = Path(__file__).resolve().parent.parent / "data" / "mnist"
IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}


class DataError(GanError, ValueError):
    """A dataset we cannot use (a "data.*" code); also a ValueError, as before."""


class DataFolderNotFound(GanError, NotADirectoryError):
    """"data.folder_not_found"; also a NotADirectoryError, as before."""


class DataFilesMissing(GanError, FileNotFoundError):
    """"data.mnist_missing"; also a FileNotFoundError, as before."""


@lru_cache(maxsize=2)
def load_mnist(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N,28,28), labels uint8 (N,)) for split 'train' (60k) or 'test' (10k)."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    files = sorted(MNIST_DIR.glob("train-*.npz")) if split == "train" else [MNIST_DIR / "test.npz"]
    if not files or not all(f.exists() for f in files):
        raise DataFilesMissing("data.mnist_missing", folder=str(MNIST_DIR))
    parts = [np.load(f) for f in files]
    images = np.concatenate([p["images"] for p in parts])
    labels = np.concatenate([p["labels"] for p in parts])
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def to_model_range(images_uint8) -> torch.Tensor:
    """uint8 (N,H,W) or (N,H,W,3) -> float (N,C,H,W) in [-1, 1], the range of a tanh generator."""
    x = torch.tensor(np.asarray(images_uint8), dtype=torch.float32)
    x = x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2)
    return x.div_(127.5).sub_(1.0)


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """float (N,C,H,W) in [-1, 1] -> uint8 (N,H,W) for grey or (N,H,W,3) for colour."""
    x = ((x.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    x = x.squeeze(1) if x.shape[1] == 1 else x.permute(0, 2, 3, 1)
    return x.numpy()


def mnist_tensor(split: str = "train") -> torch.Tensor:
    """MNIST as float (N,1,28,28) in [-1, 1]."""
    return to_model_range(load_mnist(split)[0])


@dataclass
class FolderImages:
    """Images of a folder, recursively, as one tensor; `skipped` lists (file, Message why) not read."""

    tensor: torch.Tensor
    paths: list = field(default_factory=list)
    skipped: list = field(default_factory=list)


def load_image_folder(root, size: int = 64, channels: int = 3, limit: int | None = None,
                      shard: tuple[int, int] | None = None, warn: bool = True) -> FolderImages:
    """Read every image under `root` (through image_io.load_image: its formats, bomb guard, EXIF
    rotation and colour fixes), centre-crop to a square, resize.
    shard=(rank, world): only the sorted files rank, rank + world, ... (one torchrun rank's part).

    Unreadable, truncated or non-image files are skipped and reported, never fatal, so one bad
    file in a 13k-image folder does not end a training run. warn=False: the caller says it (in a front end's
    language) from `skipped`, and no process-wide warnings filter is touched from a server's threads.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataFolderNotFound("data.folder_not_found", root=str(root))
    candidates = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTS)
    if shard is not None:
        candidates = candidates[shard[0]::shard[1]]
    arrays, paths, skipped = [], [], []
    for p in candidates:
        if limit is not None and len(arrays) >= limit:
            break
        try:
            arrays.append(square_array(load_image(p, max_side=decode_side(size)).image, size, channels))
            paths.append(str(p))
        except ImageLoadError as e:  # unreadable, truncated, a bomb, not an image: skip it, say why
            skipped.append((str(p), e.message))
    if not arrays:
        raise DataError("data.no_images", root=str(root), skipped=len(skipped))
    if skipped and warn:
        warnings.warn(f"skipped {len(skipped)} unreadable file(s) under {root}", stacklevel=2)
    stack = np.stack(arrays)
    return FolderImages(to_model_range(stack), paths, skipped)


def decode_side(size: int) -> int:
    """How large load_image may decode a picture meant for `size` px: JPEG's draft mode then decodes
    phone photos at 1/8 size, which makes reading a folder of them several times faster."""
    return max(4 * size, 256)


def square_array(im: Image.Image, size: int, channels: int) -> np.ndarray:
    """An RGB picture (as load_image returns it) -> uint8 (size, size) grey or (size, size, 3):
    the centred square, resized. The one preprocessing step for folders, uploads and datasets."""
    im = im.convert("RGB" if channels == 3 else "L")
    w, h = im.size
    s = min(w, h)
    im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
    if im.size != (size, size):
        im = im.resize((size, size), Image.BICUBIC)
    return np.asarray(im)  # an L or RGB picture's own bytes: uint8
