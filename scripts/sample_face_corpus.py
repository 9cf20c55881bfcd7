"""Write N faces sampled from a generator as PNG files: the WGAN-GP's training corpus.

No face photographs can be reached offline, so the WGAN-GP learns from the converted face DCGAN
(itself trained on the synthetic DigiFace-1M). It can at best match that teacher, which its model
card says plainly. With real photos (e.g. LFW), skip this and give `train --data` their folder.

    python scripts/sample_face_corpus.py checkpoints/face-dcgan runs/face-corpus --n 20000
"""
import argparse
import json
from pathlib import Path

import torch
from PIL import Image

from gan_core.data import to_uint8
from gan_core.hub import load_model


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("source", help="generator folder or Hub repo id")
    p.add_argument("out", type=Path)
    p.add_argument("--n", type=int, default=20000)
    p.add_argument("--seed", type=int, default=10_000)  # away from the seeds the page shows
    p.add_argument("--batch", type=int, default=250)
    args = p.parse_args()
    G = load_model(args.source)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = torch.Generator().manual_seed(args.seed)
    done = 0
    with torch.no_grad():
        while done < args.n:
            b = min(args.batch, args.n - done)
            for im in to_uint8(G(G.sample_z(b, rng))):
                Image.fromarray(im).save(args.out / f"{done:06d}.png")
                done += 1
    print(json.dumps({"out": str(args.out), "n": done, "source": args.source, "seed": args.seed}))


if __name__ == "__main__":
    main()
