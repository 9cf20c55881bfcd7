"""Do the face generators' samples look like faces to a detector that has never seen a GAN?

FID and precision/recall measure closeness to the reference set in Inception space; this asks the
plainer question "is it a face?" of an independent judge: OpenCV's Viola-Jones cascades
(`haarcascade_frontalface_default` and `haarcascade_eye`, trained on real photographs and shipped in
PyPI `opencv-python-headless`). A sample counts as a *face* when the face cascade fires on it, and as
a *face with both eyes* when, inside a face it found, the eye cascade fires once in the left half and
once in the right half of the face's upper part.

Baseline in the same run: the face DCGAN (the WGAN-GP's teacher), and three controls that must score
near 0 - uniform noise, the untrained generator, and the DCGAN's own samples cut into 8x8 tiles and
shuffled (the same colours and textures, no face layout). Prints a table, the ratio of each model to
the DCGAN, and JSON.

    nice -n 10 python bench/face_detect.py --n 300
"""
import argparse
import functools
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fid_faces import add_model_args, check_model_args, emit, load_models, samples  # noqa: E402
from gan_core.data import to_uint8  # noqa: E402
from gan_core.models import DCGANGenerator64  # noqa: E402

UPSCALE = 128  # the cascades' smallest face is 24x24: look at 64x64 samples at twice the size


@functools.cache
def cascades():
    """OpenCV and the two cascades, loaded once."""
    import cv2  # optional: only this bench and its test need OpenCV
    path = cv2.data.haarcascades
    return cv2, cv2.CascadeClassifier(path + "haarcascade_frontalface_default.xml"), \
        cv2.CascadeClassifier(path + "haarcascade_eye.xml")


def detect(images: np.ndarray) -> dict:
    """uint8 (N,H,W,3) -> share of images with a face, and with a face and both eyes."""
    cv2, face_cascade, eye_cascade = cascades()
    faces = both_eyes = 0
    for image in images:
        grey = cv2.equalizeHist(cv2.resize(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), (UPSCALE, UPSCALE)))
        found = face_cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=3, minSize=(UPSCALE // 4,) * 2)
        faces += len(found) > 0
        both_eyes += any(has_both_eyes(eye_cascade, grey, box) for box in found)
    return {"face": round(faces / len(images), 3), "face_both_eyes": round(both_eyes / len(images), 3)}


def has_both_eyes(eye_cascade, grey: np.ndarray, box) -> bool:
    """An eye in the left half and one in the right half of the face's upper 5/8."""
    x, y, w, h = (int(v) for v in box)
    upper = grey[y:y + h * 5 // 8, x:x + w]
    eyes = eye_cascade.detectMultiScale(upper, scaleFactor=1.1, minNeighbors=3,
                                        minSize=(w // 8,) * 2, maxSize=(w // 2,) * 2)
    centres = [ex + ew / 2 for ex, _, ew, _ in eyes]
    return any(c < w / 2 for c in centres) and any(c >= w / 2 for c in centres)


def tile_shuffle(images: np.ndarray, tile: int = 8, seed: int = 0) -> np.ndarray:
    """Cut each image into tile x tile squares and shuffle them: colours and textures stay, layout goes."""
    n, h, w, c = images.shape
    rows, cols = h // tile, w // tile
    tiles = images.reshape(n, rows, tile, cols, tile, c).transpose(0, 1, 3, 2, 4, 5).reshape(n, rows * cols, tile, tile, c)
    rng = np.random.default_rng(seed)
    tiles = np.stack([t[rng.permutation(rows * cols)] for t in tiles])
    return tiles.reshape(n, rows, cols, tile, tile, c).transpose(0, 1, 3, 2, 4, 5).reshape(n, h, w, c)


def controls(dcgan_images: np.ndarray, n: int, seed: int) -> dict:
    """Image sets that are not faces: a working detector finds (almost) none in them."""
    torch.manual_seed(0)
    untrained = DCGANGenerator64(z_dim=100, width=32).eval()
    return {"noise": np.random.default_rng(seed).integers(0, 256, (n, 64, 64, 3), dtype=np.uint8),
            "untrained G": to_uint8(samples(untrained, n, seed)),
            "shuffled DCGAN tiles": tile_shuffle(dcgan_images, seed=seed)}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=300, help="samples per model")
    p.add_argument("--seed", type=int, default=20_000, help="noise seed (fid_faces.py's evaluation stream)")
    add_model_args(p)
    p.add_argument("--json-out", type=Path)
    args = p.parse_args()
    check_model_args(p, args)
    models = load_models(args.models)
    try:
        cascades()
    except ImportError:
        sys.exit("error: OpenCV is not installed: pip install opencv-python-headless")
    torch.set_num_threads(1)  # detection is the slow part and is single-threaded anyway

    t0 = time.perf_counter()
    sets = {name: to_uint8(samples(G, args.n, args.seed, psi=args.truncation)) for name, (_, G) in models.items()}
    baseline = "dcgan" if "dcgan" in sets else next(iter(sets))
    control_sets = controls(sets[baseline], args.n, args.seed)
    sets |= control_sets
    rates = {name: detect(images) for name, images in sets.items()}
    se = {name: round(float(np.sqrt(r["face_both_eyes"] * (1 - r["face_both_eyes"]) / args.n)), 3)
          for name, r in rates.items()}
    result = {"n": args.n, "seed": args.seed, "truncation": args.truncation, "baseline": baseline,
              "controls": list(control_sets),
              "detector": "OpenCV Haar cascades frontalface_default + eye", "rates": rates,
              "std_error_both_eyes": se,
              "ratio_vs_baseline": {name: round(r["face_both_eyes"] / max(rates[baseline]["face_both_eyes"], 1e-9), 3)
                                    for name, r in rates.items()},
              "seconds": round(time.perf_counter() - t0, 1)}
    print(f"{'set':<22} {'face':>6} {'both eyes':>10} {'vs ' + baseline:>10}", file=sys.stderr)
    for name, r in rates.items():
        print(f"{name:<22} {r['face']:>6.3f} {r['face_both_eyes']:>10.3f} {result['ratio_vs_baseline'][name]:>10.2f}",
              file=sys.stderr)
    emit(result, args.json_out)


if __name__ == "__main__":
    main()
