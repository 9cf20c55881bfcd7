"""Take it home: a run as a Jupyter notebook in plain PyTorch, with no import of this project.

The notebook holds the run's settings, the source of its two networks and of its losses, an MNIST
loader (downloads a public copy, or reads local .npz files), the training loop written out top to
bottom and the plots. The classes and loss functions are copied with inspect.getsource from the very
objects the registry builds (minus the Hub mixin), so the notebook cannot drift from the app's models.
The loop draws batches and noise in the Trainer's order from the same seeds: on the same device and
data it repeats the run's first steps number for number (tests/test_notebook.py checks it).

    nb = build(cfg, steps)           # a TrainConfig (e.g. a page session's start config)
    nb = from_run("runs/mlp")        # a folder written by `python -m gan_core train`
    Path("run.ipynb").write_text(dumps(nb))
"""
import inspect
import json
import pprint
import re
import textwrap
from dataclasses import asdict
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from . import grid, halves, losses, one_channel, registry
from .architecture import class_sources
from .config import TrainConfig
from .device import adam, fast_dtype, tensors_of
from .export import batch_text
from .messages import ENGLISH, GanError
from .training import BN_STATISTICS, as_trained

MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"  # Keras's public copy
_HUB = re.compile(r",\s*PyTorchModelHubMixin,\s*\*\*HUB_KW")  # the Hub mixin: not needed to train
FAMILIES = ("slides", "mlp", "dcgan")  # registry families whose loop this module writes (not the VAE, not progressive)


def supports(model: str) -> bool:
    """Whether a notebook can be written for `model` (a registry name): its loop is here and it trains on MNIST."""
    spec = registry.get(model)
    return spec.family in FAMILIES and "digits" in spec.data


# ---------------------------------------------------------------- source, taken from the live objects
def _strip_hub(src: str) -> str:
    return _HUB.sub("", src)


def _refusal_source() -> str:
    """The models refuse a setting with gan_core's coded error (the app translates it); the notebook's own is a
    ValueError in the same English words."""
    texts = pprint.pformat({code: text for code, text in ENGLISH.items() if code.startswith("model.")}, width=110)
    return f"""\
MODEL_REFUSALS = {texts}


class ModelConfigError(ValueError):
    \"\"\"A setting a network cannot be built with, in the app's English.\"\"\"

    def __init__(self, code, **values):
        super().__init__(MODEL_REFUSALS[code].format(**values))"""


def _network_sources(G, D) -> list[str]:
    sources = class_sources(type(G), type(D), transform=_strip_hub)
    return ([_refusal_source()] if any("ModelConfigError(" in src for src in sources) else []) + sources


def _source(obj) -> str:
    return _strip_hub(textwrap.dedent(inspect.getsource(obj)))


def _loss_names(cfg: TrainConfig) -> list[str]:
    """The functions of gan_core.losses this run's loop calls."""
    if cfg.loss in losses.BCE_FAMILIES:
        family = losses.BCE_FAMILIES[cfg.loss]
        names = [family.d_loss.__name__, family.g_loss.__name__] + (["r1_penalty"] if cfg.uses_r1 else [])
    else:
        names = ["wgan_d_loss", "wgan_g_loss", "gradient_penalty" if cfg.loss == "wgan-gp" else "clip_weights"]
    return names + (["class_loss"] if cfg.num_classes else [])


def _optimizers(cfg: TrainConfig) -> str:
    """The Trainer's choice of optimizer, as code."""
    if cfg.optimizer == "sgd":
        kind, note = "SGD", "# plain SGD, the slides' alternative\n"
    elif cfg.loss == "wgan-clip":
        kind, note = "RMSprop", "# RMSprop, as the WGAN paper: momentum destabilises weight clipping\n"
    else:  # adam(): copied above, with the fused kernel where the app's Trainer takes it
        return ('opt_g = adam(G.parameters(), CONFIG["lr_g"], (CONFIG["beta1"], CONFIG["beta2"]))\n'
                'opt_d = adam(D.parameters(), CONFIG["lr_d"], (CONFIG["beta1"], CONFIG["beta2"]))')
    return (f'{note}opt_g = torch.optim.{kind}(G.parameters(), lr=CONFIG["lr_g"])\n'
            f'opt_d = torch.optim.{kind}(D.parameters(), lr=CONFIG["lr_d"])')


# ---------------------------------------------------------------- the loop, written for this run
def _r1(cfg: TrainConfig) -> str:
    """R1's lazy D step, as Trainer._r1_step takes it (a conditional D through its heads, as in D's turn)."""
    judge = (f"            outs = [o.float() for o in D.forward_with_classes(x{', twin=True' if cfg.d_twin else ''})]"
             "  # the score first, then the digit heads\n" if cfg.num_classes else "            outs = [D(x).float()]\n")
    return f"""\
    # ---- (3) R1, lazily: every r1_every-th step a D step of its own, on D's squared gradient at real digits
    if step % CONFIG["r1_every"] == 0:
        x, _ = next_batch()
        x.requires_grad_(True)
        with autocast():
{judge}        r1 = r1_penalty(outs[0], x, CONFIG["r1"] * CONFIG["r1_every"])
        # + 0 x D's outputs, as the trainer: the weights with no say in R1 (the score's bias) get a zero gradient,
        # which DDP under torchrun waits for (Adam then ages their moments, as in the trainer)
        r1 = r1 + 0 * sum(o.sum() for o in outs)
        opt_d.zero_grad(set_to_none=True)
        r1.backward()
        opt_d.step()
"""


# D's turn, where no layer of D mixes a batch's samples but its halved batch norms (the Trainer's _judge_both):
# both batches in one forward
_BOTH = "torch.cat([x, fake.detach().to(x.dtype)])"
_ONE_FORWARD = "# one forward of both batches: D has no batch norm, so each sample's score is what it would be alone\n"
_HALVES = "with split(D_norms):  # one forward of both batches, its batch norm each half's own: as two forwards\n"


def _both(lines: str, indent: str, halved: bool) -> str:
    """D's forward of both batches (`lines`, at `indent`), under split() where D's batch norms are halved."""
    if not halved:
        return indent + _ONE_FORWARD + "".join(indent + line + "\n" for line in lines.splitlines())
    return indent + _HALVES + "".join(indent + "    " + line + "\n" for line in lines.splitlines())


def _bce_body(cfg: TrainConfig, both: bool, halved: bool) -> str:
    family = losses.BCE_FAMILIES[cfg.loss]
    cond = cfg.num_classes > 0
    d_loss, g_loss = family.d_loss.__name__, family.g_loss.__name__
    y_fake = "\n    y_fake = torch.randint(NUM_CLASSES, (B,), generator=rng).to(device)  # the digits G is asked for" if cond else ""
    g_in = "z, y_fake" if cond else "z"
    smooth = ', CONFIG["real_label"]' if cfg.real_label != 1.0 else ""  # one-sided label smoothing
    weight = 'CONFIG["g_class_weight"] * ' if cfg.g_class_weight != 1.0 else ""
    if cond:  # AC-GAN; with d_twin TAC-GAN: D's twin head learns the fakes' digits, G keeps it unsure
        tac = cfg.d_twin
        if both:
            judged = ("out, cls, twin = " if tac else "out, cls = ") + \
                f"(o.float() for o in D.forward_with_classes({_BOTH}{', twin=True' if tac else ''}))"
            d_judge = (_both(judged, "        ", halved) + "        (real_out, fake_out), real_cls = out.chunk(2), cls[:B]  # + D's digit guess\n"
                       + ("        fake_twin = twin[B:]\n" if tac else ""))
        else:
            d_judge = ("        real_out, real_cls = (o.float() for o in D.forward_with_classes(x))  # + D's digit guess\n"
                       + ("        fake_out, _, fake_twin = (o.float() for o in D.forward_with_classes(fake.detach(), twin=True))\n"
                          if tac else "        fake_out = D(fake.detach()).float()\n"))
        d_judge = (d_judge
                   + f"        d_loss = {d_loss}(real_out, fake_out{smooth}) + class_loss(real_cls, y_real)\n"
                   + ("        d_loss = d_loss + class_loss(fake_twin, y_fake)  # the twin head: which digit was this fake asked to be?\n"
                      if tac else ""))
        g_judge = (("        g_out, g_cls, g_twin = (o.float() for o in D.forward_with_classes(fake, twin=True))\n" if tac
                    else "        g_out, g_cls = (o.float() for o in D.forward_with_classes(fake))\n")
                   + f"        g_loss = {g_loss}(g_out) + {weight}class_loss(g_cls, y_fake)  # fool D, and draw the asked digit\n"
                   + (f"        g_loss = g_loss - {weight}class_loss(g_twin, y_fake)  # in every way: keep the twin head unsure\n"
                      if tac else ""))
    else:
        d_judge = ((_both(f"real_out, fake_out = D({_BOTH}).float().chunk(2)", "        ", halved) if both
                     else "        real_out, fake_out = D(x).float(), D(fake.detach()).float()\n")
                   + f"        d_loss = {d_loss}(real_out, fake_out{smooth})\n")
        g_judge = f"        g_loss = {g_loss}(D(fake).float())\n"
    fresh = f"        fake = G(noise(B){', y_fake' if cond else ''})  # fresh noise for G's turn, as the slides\n" \
        if family.fresh_noise else ""
    return f"""\
    # ---- (1) Update D: real -> 1, fake -> 0 (fake detached: this phase must not move G)
    x, y_real = next_batch()             # (B, 1, 28, 28) real digits in [-1, 1], their labels
    z = noise(B)                         # (B, Z_DIM){y_fake}
    with autocast():
        fake = G({g_in})                  # (B, 1, 28, 28)
{d_judge}    opt_d.zero_grad(set_to_none=True)
    d_loss.backward()
    opt_d.step()
    # ---- (2) Update G through a frozen D: fake -> 1
    D.requires_grad_(False)
    with autocast():
{fresh}{g_judge}    opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    opt_g.step()
    D.requires_grad_(True)
{_r1(cfg) if cfg.uses_r1 else ""}"""


def _wgan_body(cfg: TrainConfig, both: bool, halved: bool) -> str:
    lipschitz = ("        if (step * CONFIG[\"n_critic\"] + i) % CONFIG[\"gp_every\"] == 0:  # lazy: every gp_every-th update\n"
                 "            d_loss = d_loss + gradient_penalty(D, x, fake.detach().to(x.dtype), CONFIG[\"gp_weight\"] * CONFIG[\"gp_every\"])\n"
                 if cfg.loss == "wgan-gp" else "")
    clip = "        clip_weights(D, CONFIG[\"clip\"])  # keep the critic (roughly) 1-Lipschitz\n" if cfg.loss == "wgan-clip" else ""
    judge = (_both(f"real_s, fake_s = D({_BOTH}).float().chunk(2)", "            ", halved) if both
             else "            real_s, fake_s = D(x).float(), D(fake.detach()).float()\n")
    return f"""\
    # ---- (1) Update the critic n_critic times: real scores up, fake scores down
    for i in range(CONFIG["n_critic"]):
        x, _ = next_batch()
        with torch.set_grad_enabled(i == CONFIG["n_critic"] - 1), autocast():  # the last fakes are G's turn's too
            fake = G(noise(B))
        with autocast():
{judge}        d_loss = wgan_d_loss(real_s, fake_s)
{lipschitz}        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
{clip}    # ---- (2) Update G through a frozen critic: the scores of the fakes it just saw up
    D.requires_grad_(False)
    with autocast():
        g_loss = wgan_g_loss(D(fake).float())
    opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    opt_g.step()
    D.requires_grad_(True)
"""


_EMA = f"""\
    # ---- the EMA of G's weights: what the samples come from (a short horizon at first)
    with torch.no_grad():
        decay = min(CONFIG["ema"], (1 + step) / (10 + step))
        for p_ema, p in zip(G_ema.parameters(), G.parameters()):
            p_ema.lerp_(p, 1 - decay)
        for (name, b_ema), b in zip(G_ema.named_buffers(), G.buffers()):
            if name.endswith({BN_STATISTICS!r}):  # batch norm's statistics: averaged too
                b_ema.lerp_(b, 1 - decay)
            else:
                b_ema.copy_(b)
"""

_RATE_CUT = """\
    if step + 1 == CONFIG["lr_cut_at"]:  # the run's rate cut: a calmer end, the rates times lr_cut from here on
        for opt, cut in ((opt_g, CONFIG["lr_cut"]), (opt_d, CONFIG["lr_cut_d"] or CONFIG["lr_cut"])):  # D's own, if set
            for group in opt.param_groups:
                group["lr"] *= cut
        B *= CONFIG["lr_cut_batch"]  # and the batch grows by its factor (1 = the same): larger batches calm steps too
"""

_LAYOUT = "# channels_last (NHWC): the same sums, in the memory layout CPUs convolve fastest\n"

_ONE_CHANNEL = "G, D = swap_in(G), swap_in(D)  # on a CPU: the app's faster convolutions into one channel\n"

_HALVED = "D_norms = halve_norms(D)  # D's batch norms, each half of a batch its own in D's turn (split)\n"
_HALVES_SOURCE = (halves.as_norm, halves.HalvesBatchNorm2d, halves.halve_norms, halves.split)  # what the loop calls

# gan_core.one_channel, copied whole (its layers fall back to nn's off the CPU)
_ONE_CHANNEL_SOURCE = ("_places", "_scatter", "_ToOneChannel", "_FromOneChannel", "_compute_dtype",
                       "OneChannelConv2d", "OneChannelConvTranspose2d", "_plain", "into_one", "as_conv", "swap_layers",
                       "swap_in")

_BATCHES = {
    "random": """\
def next_batch():
    \"\"\"B random training digits (and their labels).\"\"\"
    idx = torch.randint(len(images), (B,), generator=rng).to(device)
    return images[idx], labels[idx]
""",
    "epochs": """\
order = torch.empty(0, dtype=torch.long)  # what is left of the current shuffled epoch


def next_batch():
    \"\"\"The next B digits of a shuffled epoch (every digit once per epoch, like a shuffling DataLoader).\"\"\"
    global order
    while len(order) < B:
        order = torch.cat([order, torch.randperm(len(images), generator=rng)])
    idx, order = order[:B].to(device), order[B:]
    return images[idx], labels[idx]
""",
}


def _cells(cfg: TrainConfig, steps: int, notes: list[str], title: str):
    spec = registry.get(cfg.model)
    G, D = spec.build(cfg, 1, 28)
    trained = as_trained(spec.build(cfg, 1, 28)[1], cfg, "cpu")  # D with the layers the Trainer swaps in
    has_norms = bool(halves.halve_norms(trained))
    both = halves.joinable(trained)       # D's turn as one forward of both batches, as the Trainer's
    halved = has_norms and both           # ... its batch norms each half's own there
    body = (_bce_body if cfg.loss in losses.BCE_FAMILIES else _wgan_body)(cfg, both, halved)
    config = pprint.pformat(asdict(cfg), sort_dicts=False, width=100)
    yield new_markdown_cell(f"""# {title}

Model `{cfg.model}`: {spec.about}. {steps:,} training steps, {batch_text(cfg)}, on MNIST.

This notebook trains it again from scratch with plain PyTorch: the settings, the two networks'
source, the MNIST loader, the training loop and the plots are all below; nothing imports the GAN
Playground. Run the cells in order, on [Colab](https://colab.research.google.com) (a GPU runtime is
faster) or in a local Jupyter with `torch`, `numpy`, `matplotlib` and `pillow`.
On the same device it repeats the run's steps number for number; a GPU's kernels differ slightly.""" + (
        "\n\nNot replayed here (the settings below are the ones the run started with):\n"
        + "\n".join(f"- {n}" for n in notes) if notes else ""))
    yield new_code_cell(f"""\
# Parameters: change them here, or set the environment variables when running this as a script.
import os

STEPS = int(os.environ.get("GAN_NB_STEPS", {steps}))          # the run's length
MNIST_NPZ = os.environ.get("GAN_NB_MNIST", "")            # "": download MNIST; else .npz file(s), a glob
OUT_DIR = os.environ.get("GAN_NB_OUT", ".")                # where samples.png and metrics.jsonl go
LOG_EVERY = max(1, STEPS // 20)""", metadata={"tags": ["parameters"]})
    yield new_code_cell("""\
import copy
import glob
import json
import math
import platform
import urllib.request

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print("device:", device)


""" + "\n\n\n".join(_source(f) for f in (fast_dtype, tensors_of, adam)))
    yield new_code_cell(f"""\
# The run's settings (the app's TrainConfig). Not every field is used by this model.
CONFIG = {config}""")
    yield new_markdown_cell("## The networks\nCopied from the app's source (`gan_core/models.py`).")
    yield new_code_cell("\n\n\n".join(_network_sources(G, D)))
    swaps = any(one_channel.into_one(m) for net in (G, D) for m in net.modules())
    if swaps:
        yield new_markdown_cell("""## Convolutions into one channel
A digit has one channel. On a CPU, PyTorch's convolutions from many channels into one (G's last layer, and the
gradient G's turn passes back through D's first) run at a few GFLOP/s; the app's trainer computes the same sums as
a matmul and a scatter, in another order. Copied from `gan_core/one_channel.py`, so that this loop repeats the
app's numbers; on a GPU the layers are PyTorch's own.""")
        yield new_code_cell("from functools import lru_cache\n\n\n" + "\n\n\n".join(
            _source(getattr(one_channel, name)) for name in _ONE_CHANNEL_SOURCE))
    if halved:
        yield new_markdown_cell("""## Real and fake in one forward
D's turn judges a batch of real digits and one of fakes. D's batch norm would mix the two if they went through
it together, so the app's trainer sends both through one forward with each half normalised by its own statistics:
what two forwards compute, with each convolution run once on both. Copied from `gan_core/halves.py`.""")
        walk = () if swaps else (halves.swap_layers,)  # the one-channel cell above has it
        yield new_code_cell("from contextlib import contextmanager\n\n\n" + "\n\n\n".join(
            _source(obj) for obj in (*walk, *_HALVES_SOURCE)))
    yield new_markdown_cell("## The losses\nCopied from `gan_core/losses.py`.")
    yield new_code_cell("\n\n".join(_source(getattr(losses, n)) for n in _loss_names(cfg)))
    yield new_markdown_cell(f"""## The data
MNIST, 60,000 handwritten digits of 28x28 grey pixels, scaled to [-1, 1] (the range of G's tanh).
With `MNIST_NPZ` empty it downloads Keras's public copy ({MNIST_URL}, 11 MB) once. Offline, or if
that address is blocked, upload .npz files and set `MNIST_NPZ`: Keras's `mnist.npz`
(`x_train`, `y_train`) or the GAN Playground's `data/mnist/train-*.npz` (`images`, `labels`).""")
    yield new_code_cell(f"""\
MNIST_URL = "{MNIST_URL}"


def load_mnist(spec=""):
    \"\"\"(images (N, 1, 28, 28) float in [-1, 1], labels (N,)) from .npz files, or a download.\"\"\"
    paths = sorted(glob.glob(spec)) if spec else []
    if spec and not paths:
        raise FileNotFoundError(f"no file matches MNIST_NPZ={{spec!r}}")
    if not paths:
        paths = ["mnist.npz"]
        if not os.path.exists(paths[0]):
            urllib.request.urlretrieve(MNIST_URL, paths[0])
    xs, ys = [], []
    for path in paths:
        with np.load(path) as f:
            xs.append(f["images"] if "images" in f else f["x_train"])
            ys.append(f["labels"] if "labels" in f else f["y_train"])
    x = torch.tensor(np.concatenate(xs), dtype=torch.float32).unsqueeze(1).div_(127.5).sub_(1.0)
    return x, torch.from_numpy(np.concatenate(ys).astype("int64"))


images, labels = load_mnist(MNIST_NPZ)
images, labels = images.to(device), labels.to(device)
print(images.shape, "digits in", (images.min().item(), images.max().item()))""")
    ema = cfg.ema > 0
    layout = ", memory_format=torch.channels_last" if cfg.channels_last else ""
    yield new_markdown_cell("## Build and train\nOne iteration reads top to bottom: D's turn, then G's.")
    yield new_code_cell(f"""\
SEED, B, Z_DIM, NUM_CLASSES = CONFIG["seed"], CONFIG["batch_size"], CONFIG["z_dim"], CONFIG["num_classes"]
torch.manual_seed(SEED)                      # the initial weights
{_LAYOUT if cfg.channels_last else ""}G = {type(G).__name__}(**{G._hub_mixin_config!r}).to(device{layout})
D = {type(D).__name__}(**{D._hub_mixin_config!r}).to(device{layout})
{_ONE_CHANNEL if swaps else ""}{_HALVED if halved else ""}{_optimizers(cfg)}
G_ema = copy.deepcopy(G).eval().requires_grad_(False) if CONFIG["ema"] else None  # smoothed G, for samples
rng = torch.Generator().manual_seed(SEED)    # batches and noise, in the app's order
fixed_z = torch.randn(CONFIG["n_fixed"], Z_DIM, generator=torch.Generator().manual_seed(SEED + 1)).to(device)
BF16 = CONFIG["bf16"] and fast_dtype(device) is not None  # emulated bf16 is slower than fp32


def autocast():
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=BF16)


def noise(n):
    return torch.randn(n, Z_DIM, generator=rng).to(device)


{_BATCHES[cfg.batching]}""")
    yield new_code_cell(f"""\
history = {{"step": [], "d_loss": [], "g_loss": []}}
for step in range(STEPS):
{body}{_EMA if ema else ""}{_RATE_CUT if cfg.lr_cut_at else ""}    history["step"].append(step + 1)
    history["d_loss"].append(d_loss.item())
    history["g_loss"].append(g_loss.item())
    if not (math.isfinite(history["d_loss"][-1]) and math.isfinite(history["g_loss"][-1])):
        raise RuntimeError(f"the losses diverged at step {{step + 1}}")
    if (step + 1) % LOG_EVERY == 0:
        print(f"step {{step + 1:6d}}  D loss {{history['d_loss'][-1]:.4f}}  G loss {{history['g_loss'][-1]:.4f}}")""")
    yield new_markdown_cell("## Plots\nThe losses, and the generator on 64 fixed noise vectors.")
    yield new_code_cell(f"""\
{_source(grid.make_grid)}

os.makedirs(OUT_DIR, exist_ok=True)
with open(os.path.join(OUT_DIR, "metrics.jsonl"), "w") as f:
    for s, dl, gl in zip(history["step"], history["d_loss"], history["g_loss"]):
        f.write(json.dumps({{"step": s, "d_loss": dl, "g_loss": gl}}) + "\\n")

fig, ax = plt.subplots(figsize=(8, 3))
ax.plot(history["step"], history["d_loss"], label="D loss", color="#d62728")
ax.plot(history["step"], history["g_loss"], label="G loss", color="#1f77b4")
ax.set_xlabel("step")
ax.legend()
plt.show()

G_show = G_ema if G_ema is not None else G   # the EMA when the run had one
G_show.eval()                                # BatchNorm: its running statistics
with torch.no_grad():
    x = G_show(fixed_z).float().cpu()
tiles = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).squeeze(1).numpy()
picture = make_grid(tiles, nrow=8)
Image.fromarray(picture).save(os.path.join(OUT_DIR, "samples.png"))
plt.figure(figsize=(5, 5))
plt.imshow(picture, cmap="gray")
plt.axis("off")
plt.show()""")


def build(cfg: TrainConfig, steps: int, changes=(), half_steps: int = 0, title: str | None = None) -> nbformat.NotebookNode:
    """The notebook for a run of `cfg` with `steps` iterations (MNIST models only). What a live run did
    that the loop does not replay is listed: `changes`, (step, field, old, new) of settings changed on
    the fly, and `half_steps`, iterations that ran one net's turn alone (the page's D step / G step)."""
    if not supports(cfg.model):
        raise GanError("notebook.unsupported", model=cfg.model)
    notes = [f"`{field}` {old} -> {new} at step {step}" for step, field, old, new in changes]
    if half_steps:
        notes.append(f"{half_steps} of the steps were half-steps (one net's turn alone); here every step runs both")
    if cfg.balance:
        notes.append("the balance rule (skip the turn of the net that is too good): this loop runs every turn")
    if cfg.equalized_lr != "none":
        notes.append("ProGAN's equalized learning rate (He init, each layer's rate times its He constant): this loop "
                     "starts from PyTorch's own init and trains every layer at one rate")
    nb = new_notebook(cells=list(_cells(cfg, max(int(steps), 1), notes, title or f"GAN Playground run: {cfg.model}")))
    nb.metadata.update({"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                        "language_info": {"name": "python"}})
    nbformat.validate(nb)
    return nb


def from_run(folder) -> nbformat.NotebookNode:
    """The notebook of a run folder written by `python -m gan_core train` (its config and step count)."""
    import torch
    folder = Path(folder)
    state_file = folder / "trainer_state.pt"
    if not state_file.is_file():
        raise GanError("notebook.not_a_run", folder=str(folder))
    state = torch.load(state_file, map_location="cpu", weights_only=True)
    cfg = TrainConfig.from_dict(state["config"])
    spec = registry.get(cfg.model)
    saved = json.loads((folder / "config.json").read_text()).get("architecture") if (folder / "config.json").is_file() else None
    if supports(cfg.model) and saved and saved != type(spec.build(cfg, 1, 28)[0]).__name__:
        raise GanError("notebook.digits_only", model=cfg.model)  # e.g. a dcgan trained on 64 px pictures
    return build(cfg, state["iteration"], title=f"GAN Playground run: {folder.name} ({cfg.model})")


def dumps(nb) -> str:
    return nbformat.writes(nb)


def code(nb) -> str:
    """The code cells as one script (what `jupyter nbconvert --to script` gives, without the magics)."""
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "code") + "\n"
