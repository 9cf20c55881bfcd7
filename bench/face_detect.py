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
import sys
import time
from pathlib import Path

import numpy as np
import torch

from gan_core.data import to_uint8
from gan_devkit.face_bench import add_model_args, check_model_args, emit, load_models, samples
from gan_devkit.face_detect import cascades, controls, detect


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
