"""Layer tables and diagrams read off the real model classes, so the lesson cannot drift from the code.

`layer_table(model)` runs one dummy batch through the model with a forward hook on every leaf
module and records what really came out: the layer's path, its type, its output shape and its
own parameter count. The Architectures page draws its tables and diagrams from these rows only.
"""
import ast
import inspect
import sys
import textwrap
from dataclasses import dataclass

import torch
from torch import nn

from . import registry
from .config import TrainConfig
from .models import DCGANDiscriminator28, GeneratorBase, MLPDiscriminator, SlidesDiscriminator
from .progressive import Growing, ProgressiveDiscriminator
from .vae import VAEEncoder


@dataclass
class Layer:
    name: str          # module path inside the model, e.g. "main.0"
    kind: str          # class name, e.g. "ConvTranspose2d"
    shape: tuple       # output shape without the batch dimension
    params: int        # parameters owned by this layer


def design(model: str, img_size: int | None = None, resolution: int | None = None):
    """(generator, discriminator/critic) of a registry model, built exactly as the trainer builds it:
    the model's preset config, at `img_size` (default: the model's first size). `resolution`: a
    progressive model as it stands at that phase of its growth (7, 14 or 28; default grown)."""
    nets = registry.get(model).build(TrainConfig.preset(model), img_size=img_size)
    for net in nets:
        if resolution is not None and isinstance(net, Growing):
            net.set_resolution(resolution)
    return nets


def dummy_input(model: nn.Module, batch: int = 2, img_size: int | None = None, channels: int | None = None) -> torch.Tensor:
    """Noise for a generator; for a discriminator, images shaped like its constructor arguments say."""
    if isinstance(model, GeneratorBase):
        return torch.zeros(batch, model.z_dim)
    cfg = getattr(model, "_hub_mixin_config", None) or {}
    c = channels or cfg.get("channels", 1)
    s = img_size or cfg.get("img_size") or _default_size(model)
    return torch.zeros(batch, c, s, s)


def _default_size(model: nn.Module) -> int:
    return {DCGANDiscriminator28: 28, MLPDiscriminator: 28, SlidesDiscriminator: 28, VAEEncoder: 28,
            ProgressiveDiscriminator: 28}.get(type(model), 64)


def layer_table(model: nn.Module, x: torch.Tensor | None = None) -> list[Layer]:
    """One row per leaf module in the order it ran, from a real forward pass (eval mode, then restored).

    An AC-GAN discriminator runs its training-time pass (real/fake score and digit head, see
    models.DCGANDiscriminator28), so its digit heads (AC-GAN's, and TAC-GAN's twin) are in the table like
    every trained weight."""
    x = dummy_input(model) if x is None else x
    rows: list[Layer] = []
    names = {m: n for n, m in model.named_modules()}
    hooks = [m.register_forward_hook(_recorder(rows, names)) for m in _layers(model)]
    was_training = model.training
    model.eval()
    try:
        conditional = getattr(model, "classes", None) is not None
        with torch.no_grad():
            model.forward_with_classes(x, twin=model.twin is not None) if conditional else model(x)
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    return rows


DROPOUTS = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)


def _layers(model: nn.Module) -> list[nn.Module]:
    """The leaf modules, except that a module with weights of its own around others (ClassBatchNorm: a
    batch norm and its per-digit scale and shift) is one layer, as the lesson draws it, and that what
    changes nothing is no layer: dropout at rate 0 (the models' optional dropout, off in their presets) and
    nn.Identity (an empty slot: WGAN-GP's critic has no norm; a grown network's resolution needs no resizing)."""
    own = [m for m in model.modules() if list(m.children()) and any(True for _ in m.parameters(recurse=False))]
    inside = {c for m in own for c in m.modules() if c is not m}
    off = {m for m in model.modules() if isinstance(m, nn.Identity) or (isinstance(m, DROPOUTS) and m.p == 0)}
    return [m for m in model.modules() if m in own or (not list(m.children()) and m not in inside | off)]


def class_sources(*classes, transform=None) -> list[str]:
    """The classes' source and that of every gan_core class or function they use by name (ClassBatchNorm,
    run_layers, ...), each once, dependencies first as in a file: the whole of what a model runs, read
    off the code itself. An exception class is not what a model runs (a refusal of its settings is named,
    not shown). `transform` edits each source before its names are read (the notebook drops the Hub
    mixin there)."""
    out: list[str] = []

    def add(obj):
        src = textwrap.dedent(inspect.getsource(obj))
        src = transform(src) if transform else src
        if src in out:
            return
        home = sys.modules[obj.__module__]
        for name in sorted({n.id for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Name)}):
            dep = getattr(home, name, None)
            runs = inspect.isfunction(dep) or (inspect.isclass(dep) and not issubclass(dep, BaseException))
            ours = runs and dep.__module__.startswith(__package__ + ".")
            if ours and dep is not obj:
                add(dep)
        out.append(src)

    for cls in classes:
        add(cls)
    return out


def _recorder(rows: list, names: dict):
    def hook(module, _inputs, output):
        out = output[0] if isinstance(output, tuple) else output
        rows.append(Layer(names[module], type(module).__name__, tuple(out.shape[1:]),
                          sum(p.numel() for p in module.parameters(recurse=False))))
    return hook


def output_shape(model: nn.Module, x: torch.Tensor | None = None) -> tuple:
    """What the whole model returns per sample: (C, H, W) for a generator, () for a score."""
    x = dummy_input(model) if x is None else x
    was_training = model.training
    model.eval()
    with torch.no_grad():
        shape = tuple(model(x).shape[1:])
    model.train(was_training)
    return shape


def fmt_shape(shape: tuple) -> str:
    return "×".join(map(str, shape)) if shape else "1"


# The diagram's words; a front end passes its language's (the digit heads are named by their module: HEADS).
WORDS = {"input": "input", "params": "{n} params", "view": "reshape", "classes": "digit head", "twin": "twin digit head"}


def to_dot(rows: list[Layer], input_shape: tuple, output: tuple | None = None, rankdir: str = "LR",
           words: dict | None = None) -> str:
    """A Graphviz chain of the layers that hold weights or change the tensor's shape.

    Activations, dropout and norms are folded into the box before them, so the diagram shows
    the shape flow (e.g. 100 -> 512×4×4 -> ... -> 3×64×64) at a glance. `output` adds a last box
    when forward() reshapes after its last layer (the FNN generator's view to 1×28×28).
    """
    words = {**WORDS, **(words or {})}
    boxes = [[words["input"], fmt_shape(input_shape), 0]]
    branches = []
    for r in rows:
        if r.name in HEADS:  # a digit head: one more output beside the real/fake score, named in words
            branches.append([f"{r.kind} · {words[r.name]}", fmt_shape(r.shape), r.params])
            continue
        new_box = (r.params and r.kind not in NORMS) or r.kind in RESHAPERS or fmt_shape(r.shape) != boxes[-1][1]
        if new_box:
            boxes.append([r.kind, fmt_shape(r.shape), r.params])
        else:
            boxes[-1][0] += f" + {r.kind}"
            boxes[-1][2] += r.params
    if output is not None and fmt_shape(output) != boxes[-1][1]:
        boxes.append([words["view"], fmt_shape(output), 0])
    lines = [f"digraph G {{ rankdir={rankdir}; bgcolor=transparent;",
             'node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontname="Helvetica", fontsize=10];']
    for i, (kind, shape, params) in enumerate(boxes):
        sub = "\\n" + words["params"].format(n=f"{params:,}") if params else ""
        lines.append(f'n{i} [label="{kind}\\n{shape}{sub}"];')
    lines += [f"n{i} -> n{i + 1};" for i in range(len(boxes) - 1)]
    for i, (kind, shape, params) in enumerate(branches):  # from the features the score head reads: the box before it
        lines += [f'b{i} [label="{kind}\\n{shape}\\n' + words["params"].format(n=f"{params:,}") + '"];',
                  f"n{len(boxes) - 2} -> b{i};"]
    return "\n".join(lines) + "}"


HEADS = {"classes", "twin"}  # DCGANDiscriminator28's digit heads: AC-GAN's, TAC-GAN's twin
NORMS = {"BatchNorm1d", "BatchNorm2d", "GroupNorm", "LayerNorm", "ClassBatchNorm"}
RESHAPERS = {"Upsample", "MaxPool2d", "MaxUnpool2d", "Flatten"}
