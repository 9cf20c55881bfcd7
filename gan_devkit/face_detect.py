"""The independent face judge of bench/face_detect.py and tests/test_face_detect.py: OpenCV's
Viola-Jones cascades (trained on photographs, never on a GAN) and the non-face control sets.
OpenCV (`opencv-python-headless`) is imported on first use only."""
import functools

import numpy as np
import torch

from gan_core.data import to_uint8
from gan_core.models import DCGANGenerator64

from .face_bench import samples

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
