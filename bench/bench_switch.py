"""An engine switch of the Trainer against its baseline, per model, in the same process.

    python bench/bench_switch.py [--switch fused_adam,channels_last,one_g_pass,layout_flatten,class_norm_select,pointwise,joint_d,halves,narrow_norm,one_channel] [--models mlp,cdcgan] [--rounds 14] [--seconds 1.5] [--warm-up 20]

Switches (each the Trainer's choice now, the baseline what it was before):
- fused_adam: Adam's fused kernel where the device has one (gan_core.device.adam), against PyTorch's default Adam;
- channels_last: the presets' NHWC tensors, against the same preset in PyTorch's default layout (NCHW);
- one_g_pass: the WGAN iteration's G turn scores the last critic update's fakes, against the loop before it,
  which drew G's turn a fresh batch: one more pass of G (no gradients) per iteration;
- layout_flatten: D's flatten hands its gradient back channels_last (gan_core.layout), against nn.Flatten's
  (C, H, W) order, which the activation before it reads beside its channels_last input an element at a time;
- class_norm_select: the conditional G's per-digit scale and shift picked by index_select, against indexing,
  whose backward is an index_put that accumulates an element at a time;
- pointwise: a channels_last net's 1x1 convolutions as matmuls over each pixel's channels (gan_core.layout), against
  nn.Conv2d, which gives a one-channel image's map NCHW to a channels_last net (progressive growing's "from pixels").
- joint_d: where no layer of D mixes a batch's samples (no batch norm), D's turn judges the real batch and the fake one
  in one forward of both together, against two forwards (one for each).
- halves: where D has batch norm, D's turn judges the real batch and the fake one in one forward, each half normalised
  by its own statistics (gan_core.halves), against two forwards (one for each), as such a D judged before.
- one_channel: on a CPU, the convolutions into one channel (a digit's: G's last transposed convolution, and the
  input gradient of D's first convolution, G's turn) as a matmul and a scatter (gan_core.one_channel), against
  oneDNN's, ~3 GFLOP/s there on 2 AVX2 cores.
- narrow_norm: a channels_last net's batch norms of fewer than 16 channels computed through NCHW (gan_core.layout),
  against PyTorch's channels_last kernel, which is 1.7-3x slower there (progressive growing's G at 28x28).
For each model, two trainers with its preset, one of them the baseline, train in alternating rounds
of `seconds` each (after `--warm-up` steps each: 800 times progressive's fully grown networks), which one goes
first alternating too: this machine's speed drifts by 20-30% from
one minute to the next, so only rounds side by side compare. Prints each model's median steps/s, the
median of the per-round ratios and how many rounds the switch won, then one JSON line.
"""
import argparse
import json
import statistics
import time
import types

import torch
from torch import nn

from gan_core import layout, models, one_channel, registry
from gan_core.data import load_mnist, mnist_tensor
from gan_core.device import describe, get_device
from gan_core.training import TrainConfig, Trainer


def _default_adam(t: Trainer) -> None:
    cfg = t.cfg
    t.opt_g = torch.optim.Adam(t.G.parameters(), lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2))
    t.opt_d = torch.optim.Adam(t.D.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2))


def _adam_models() -> list[str]:
    """The models the Trainer gives Adam: not the clipped WGAN (RMSprop, as its paper), nor SGD where a preset asks."""
    return [m for m in registry.offered("train", "digits")
            if registry.get(m).loss != "wgan-clip" and registry.get(m).preset.get("optimizer", "adam") == "adam"]


def _channels_last_models() -> list[str]:
    return [m for m in registry.offered("train", "digits") if registry.get(m).preset.get("channels_last")]


def _nhwc(t: Trainer) -> bool:
    """The critic's (or encoder's) convolution weights are channels_last (a 1-channel one is both layouts at once)."""
    return any(p.ndim == 4 and not p.is_contiguous() and p.is_contiguous(memory_format=torch.channels_last)
               for p in t.D.parameters())


def _wgan_models() -> list[str]:
    return [m for m in registry.offered("train", "digits") if registry.get(m).wgan]


def _two_g_passes(t: Trainer) -> None:
    """The loop before it: one more pass of G per iteration (without gradients, as the critic's fakes were drawn)."""
    one_pass = t._wgan_iteration

    def two_passes(skip_d: bool, skip_g: bool):
        with torch.no_grad(), t._autocast():
            t._g(t._z())
        return one_pass(skip_d, skip_g)
    t._wgan_iteration = two_passes


def _swap_back(t: Trainer, swapped: type, back) -> None:
    """Every `swapped` layer of G and D (a gan_core.layout layer) back to what it was: back(layer), the same tensors."""
    for net in (t.G, t.D):
        layout.swap_layers(net, lambda m: back(m) if isinstance(m, swapped) else None)


def _channels_last_presets_with(layer) -> list[str]:
    """The channels_last presets where layer(module) holds for a module of G or D as built."""
    return [m for m in _channels_last_models()
            if any(layer(x) for net in registry.get(m).build(TrainConfig.preset(m)) for x in net.modules())]


def _plain_flatten(t: Trainer) -> None:
    """The flatten before: nn.Flatten, whose gradient comes back in (C, H, W) order to a channels_last net."""
    _swap_back(t, layout.Flatten, lambda f: nn.Flatten(f.start_dim, f.end_dim))


def _layout_flatten_models() -> list[str]:
    """The channels_last presets whose D (or encoder) flattens its maps."""
    return [m for m in _channels_last_models()
            if any(isinstance(x, nn.Flatten) for x in registry.get(m).build(TrainConfig.preset(m))[1].modules())]


def _indexed(norm: models.ClassBatchNorm, x, labels):
    shape = (-1, x.shape[1]) + (1,) * (x.ndim - 2)
    return norm.norm(x) * norm.weight[labels].view(shape) + norm.bias[labels].view(shape)


def _indexed_class_norm(t: Trainer) -> None:
    """The class norm before: each digit's scale and shift picked by indexing (an accumulating index_put back)."""
    for m in t.G.modules():
        if isinstance(m, models.ClassBatchNorm):
            m.forward = types.MethodType(_indexed, m)


def _class_norm_models() -> list[str]:
    return [m for m in registry.offered("train", "digits") if registry.get(m).preset.get("g_class_norm")]


def _conv_pointwise(t: Trainer) -> None:
    """The 1x1 convolutions before: nn.Conv2d (the same weight and bias tensors)."""
    _swap_back(t, layout.Pointwise, lambda c: layout.as_conv(c, nn.Conv2d))


def _pointwise_models() -> list[str]:
    """The channels_last presets with a 1x1 convolution."""
    return _channels_last_presets_with(layout.plain_1x1)


def _apart(t: Trainer) -> None:
    """D's turn as before: the real batch and the fake one through D in two forwards."""
    t._joint = False


def _gans_whose_d_mixes_samples(mixes: bool) -> list[str]:
    return [m for m in registry.offered("train", "digits") if registry.get(m).adversarial
            and models.mixes_samples(registry.get(m).build(TrainConfig.preset(m))[1]) == mixes]


def _joint_models() -> list[str]:
    """The GANs whose D has no batch norm: the others judge the two batches apart either way."""
    return _gans_whose_d_mixes_samples(False)


def _halves_models() -> list[str]:
    """The GANs whose D has batch norm: D's turn is one forward there only with each half normalised alone."""
    return _gans_whose_d_mixes_samples(True)


def _native_norms(t: Trainer) -> None:
    """The batch norms before: nn.BatchNorm2d on the channels_last maps (the same scale, shift and statistics)."""
    _swap_back(t, layout.NarrowBatchNorm, lambda n: layout.as_norm(n, nn.BatchNorm2d))


def _narrow_norm_models() -> list[str]:
    """The channels_last presets with a batch norm of fewer than 16 channels."""
    return _channels_last_presets_with(layout.narrow_norm)


def _onednn_one_channel(t: Trainer) -> None:
    """The convolutions into one channel before: nn.Conv2d and nn.ConvTranspose2d (the same weight and bias)."""
    _swap_back(t, one_channel.OneChannelConv2d, lambda c: layout.as_conv(c, nn.Conv2d))
    _swap_back(t, one_channel.OneChannelConvTranspose2d, lambda c: layout.as_conv(c, nn.ConvTranspose2d))


def _one_channel_models() -> list[str]:
    """The MNIST models with a convolution into or out of one channel that the Trainer swaps."""
    return [m for m in registry.offered("train", "digits")
            if any(one_channel.into_one(x) for net in registry.get(m).build(TrainConfig.preset(m)) for x in net.modules())]


# name: (the config's change for the baseline, a change of the built baseline, what the switch is on, models)
SWITCHES = {
    "fused_adam": ({}, _default_adam, lambda t: bool(t.opt_g.defaults["fused"]), _adam_models),
    "channels_last": ({"channels_last": False}, None, _nhwc, _channels_last_models),
    "one_g_pass": ({}, _two_g_passes, lambda t: "_wgan_iteration" not in vars(t), _wgan_models),
    "layout_flatten": ({}, _plain_flatten, lambda t: any(isinstance(m, layout.Flatten) for m in t.D.modules()),
                       _layout_flatten_models),
    "class_norm_select": ({}, _indexed_class_norm, lambda t: all("forward" not in vars(m) for m in t.G.modules()),
                          _class_norm_models),
    "pointwise": ({}, _conv_pointwise, lambda t: any(isinstance(m, layout.Pointwise) for m in t.D.modules()),
                  _pointwise_models),
    "joint_d": ({}, _apart, lambda t: t._joint, _joint_models),
    "halves": ({}, _apart, lambda t: t._joint and bool(t._halves), _halves_models),
    "narrow_norm": ({}, _native_norms, lambda t: any(isinstance(m, layout.NarrowBatchNorm) for m in t.G.modules()),
                    _narrow_norm_models),
    "one_channel": ({}, _onednn_one_channel,
                    lambda t: any(type(m).__module__ == one_channel.__name__ for net in (t.G, t.D) for m in net.modules()),
                    _one_channel_models),
}


def trainer(switch: str, model: str, on: bool, data, labels, warm_up: int = 20) -> Trainer:
    """The Trainer for `model`'s preset, with the switch on (as the Trainer now is) or off (the baseline)."""
    config_change, built_change, is_on, _ = SWITCHES[switch]
    cfg = TrainConfig.preset(model, **({} if on else config_change))
    t = Trainer(cfg, data, labels=labels if cfg.num_classes else None)
    if not on and built_change:
        built_change(t)
    if is_on(t) != on:
        raise SystemExit(f"{model}: the Trainer is not what this bench compares ({switch}={on})")
    t.step(warm_up)  # first calls build oneDNN's kernels
    return t


def steps_in(t: Trainer, n: int) -> float:
    t0 = time.perf_counter()
    t.step(n)
    return n / (time.perf_counter() - t0)


def compare(switch: str, model: str, rounds: int, seconds: float, data, labels, warm_up: int = 20) -> dict:
    runs = {on: trainer(switch, model, on, data, labels, warm_up) for on in (False, True)}
    n = max(5, round(seconds * steps_in(runs[False], 10)))  # steps per round
    rates = {False: [], True: []}
    for r in range(rounds):
        for on in ((True, False) if r % 2 else (False, True)):
            rates[on].append(steps_in(runs[on], n))
    ratios = [a / b for b, a in zip(rates[False], rates[True])]
    return {"steps_per_round": n, "baseline_steps_per_s": round(statistics.median(rates[False]), 1),
            "switch_steps_per_s": round(statistics.median(rates[True]), 1), "ratio": round(statistics.median(ratios), 3),
            "ratio_range": [round(min(ratios), 3), round(max(ratios), 3)], "switch_won": sum(x > 1 for x in ratios),
            "rounds": rounds, "warm_up": warm_up}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--switch", default=",".join(SWITCHES), help="one or more of: " + ", ".join(SWITCHES))
    ap.add_argument("--models", help="default: every MNIST model each switch applies to")
    ap.add_argument("--rounds", type=int, default=14)
    ap.add_argument("--seconds", type=float, default=1.5)
    ap.add_argument("--warm-up", type=int, default=20, help="steps each trainer takes before the rounds")
    args = ap.parse_args()
    switches = args.switch.split(",")
    if unknown := set(switches) - set(SWITCHES):
        ap.error(f"unknown switch {', '.join(sorted(unknown))}; known: {', '.join(SWITCHES)}")
    data = mnist_tensor("train")
    labels = torch.tensor(load_mnist("train")[1]).long()
    out = {"device": str(describe(get_device())), "threads": torch.get_num_threads(), "switches": {}}
    for switch in switches:
        out["switches"][switch] = {}
        for model in args.models.split(",") if args.models else SWITCHES[switch][3]():
            r = out["switches"][switch][model] = compare(switch, model, args.rounds, args.seconds, data, labels,
                                                                    args.warm_up)
            print(f"{switch:13s} {model:12s} baseline {r['baseline_steps_per_s']:7.1f}  on {r['switch_steps_per_s']:7.1f} "
                  f"steps/s  ratio {r['ratio']:.3f} ({r['ratio_range'][0]:.3f} to {r['ratio_range'][1]:.3f}), "
                  f"faster in {r['switch_won']}/{r['rounds']} rounds", flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
