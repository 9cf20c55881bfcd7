"""Convert Fashion-MNIST from Debian's idx files into one compact uint8 file in data/fashion-mnist/.

Run once (the result is committed):
    apt-get install dataset-fashion-mnist        # idx files under /usr/share/datasets/fashion-mnist/
    python scripts/convert_fashion_mnist.py

Fashion-MNIST photographs of clothes compress far worse than MNIST's strokes (the 60k training
images are 26 MB gzipped), so the repo keeps a class-balanced subset: the first PER_CLASS images of
each class, in file order: 10,000 images in 4.4 MB (all 60k would add 30 MB to the repo). A GAN
trained for minutes on a laptop still sees them dozens of times. --per-class 6000 writes all 60k.
"""
import argparse
import gzip
import struct
from pathlib import Path

import numpy as np

SRC = Path("/usr/share/datasets/fashion-mnist")
OUT = Path(__file__).resolve().parent.parent / "data" / "fashion-mnist"
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def read_idx(path: Path) -> np.ndarray:
    """An idx file (LeCun's format: big-endian magic, dims, then raw uint8) as an array."""
    with gzip.open(path) as f:
        raw = f.read()
    magic, = struct.unpack(">I", raw[:4])
    ndim = magic & 0xFF
    assert magic >> 8 == 0x08, f"{path}: not uint8 idx data"
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def main(src: Path, per_class: int) -> None:
    x, y = read_idx(src / "train-images-idx3-ubyte.gz"), read_idx(src / "train-labels-idx1-ubyte.gz")
    assert x.shape == (60000, 28, 28) and np.bincount(y).tolist() == [6000] * 10
    keep = np.sort(np.concatenate([np.flatnonzero(y == c)[:per_class] for c in range(10)]))
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / "train.npz"
    np.savez_compressed(out, images=x[keep], labels=y[keep], classes=np.array(CLASSES))
    print(out.name, len(keep), "images,", out.stat().st_size, "bytes")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--src", type=Path, default=SRC)
    p.add_argument("--per-class", type=int, default=1000)
    a = p.parse_args()
    main(a.src, a.per_class)
