"""Train the digit classifier behind gan_core.metrics and save it to checkpoints/digit-classifier.

    python scripts/train_digit_classifier.py [--epochs 3]

Small shifts and scale jitter make it robust to the slightly off-centre strokes GANs draw.
"""
import argparse
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from gan_core.data import load_mnist, mnist_tensor
from gan_core.device import describe, get_device
from gan_core.hub import save_model
from gan_core.metrics import CLASSIFIER_DIR, REFERENCE_FILE, DigitClassifier, write_reference


def jitter(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Random shifts of up to 2 px and +-10% scale, with one affine grid per batch element."""
    n = x.shape[0]
    scale = 1 + (torch.rand(n, generator=g) - 0.5) * 0.2
    shift = (torch.rand(n, 2, generator=g) - 0.5) * (4 / 14)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = scale
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, x.shape, align_corners=False)
    return F.grid_sample(x, grid, padding_mode="border", align_corners=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--out", default=str(CLASSIFIER_DIR))
    args = ap.parse_args()
    device = get_device()
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x, y = mnist_tensor("train"), torch.tensor(load_mnist("train")[1]).long()
    xt, yt = mnist_tensor("test"), torch.tensor(load_mnist("test")[1]).long()
    model = DigitClassifier().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    steps = args.epochs * (len(x) // 128)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    t0 = time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(x), generator=g)
        for i in range(0, len(x) - 127, 128):
            idx = perm[i:i + 128]
            loss = F.cross_entropy(model(jitter(x[idx], g).to(device)), y[idx].to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        _, probs = model.cpu().features_and_probs(xt)
        acc = float((probs.argmax(1) == yt).float().mean())
        model.to(device)
        print(f"epoch {epoch + 1}: test accuracy {acc:.4f} ({time.time() - t0:.0f} s)")
    wall = time.time() - t0
    card = Path(__file__).with_name("digit_classifier_card.md").read_text().format(
        acc=acc * 100, epochs=args.epochs, wall=wall, hw=str(describe(device)))
    save_model(model.cpu(), args.out, card)
    print(f"saved to {args.out}")
    if Path(args.out).resolve() == CLASSIFIER_DIR:  # the stored MNIST statistics belong to these weights
        write_reference()
        print(f"wrote {REFERENCE_FILE.name}")


if __name__ == "__main__":
    main()
