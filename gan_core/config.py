"""A training run's settings: one dataclass, one table of bounds, and strict JSON in and out.

Every front end checks settings here and nowhere else: the CLI's flags (argparse types built from
BOUNDS), the app's widgets (their min/max are BOUNDS) and an uploaded run config (from_json). A bad
value is refused with a ConfigError carrying a message code, never clamped or half-applied.
"""
import json
from dataclasses import asdict, dataclass, fields

from .messages import GanError


class ConfigError(GanError, ValueError):
    """A setting or config file the app cannot use (code + params, see gan_core.messages)."""


@dataclass
class TrainConfig:
    model: str = "dcgan"
    z_dim: int = 100
    width: int = 64            # hidden units (mlp) or base channels (conv models)
    g_hidden: int = 0          # the 28/32 px DCGAN's G: a dense layer of this many units before its projection (0 = none)
    g_layers: int = 1          # ... and how many such layers, one after another (with g_hidden > 0)
    d_hidden: int = 0          # the 28/32 px DCGAN's and the progressive D: a dense layer of this many units before its score (0 = none)
    d_norm: str = "auto"       # the DCGAN family's D between convolutions: "batch", "layer", "none"; "auto": batch, none in a WGAN's critic
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    batch_size: int = 128
    n_critic: int = 1          # D/critic updates per G update
    clip: float = 0.01         # WGAN weight clipping
    gp_weight: float = 10.0    # WGAN-GP penalty weight
    gp_every: int = 1          # WGAN-GP: the penalty on every k-th critic update only, weighted k times (lazy)
    r1: float = 0.0            # BCE GANs (logits): R1's weight gamma, D's squared gradient on real images times gamma/2 (0 = off)
    r1_every: int = 16         # ... in a D step of its own on every k-th iteration, weighted k times (lazy, as StyleGAN2)
    dropout: float = 0.0       # in D (and G where the model has it)
    balance: bool = False      # skip the turn of the net that is too good
    d_acc_max: float = 0.9     # skip D while its recent accuracy is above this
    g_success_max: float = 0.9 # skip G while its recent success is above this
    balance_window: int = 10
    seed: int = 0
    snapshot_every: int = 50
    n_fixed: int = 64
    max_snapshots: int = 120
    bf16: bool = False         # autocast to bfloat16 (CPUs with AVX512-BF16/AMX, recent GPUs)
    channels_last: bool = False
    num_classes: int = 0       # > 0: conditional AC-GAN (needs labels); only the 28x28 DCGAN has it
    g_class_weight: float = 1.0  # AC-GAN: weight of G's class term ("D reads my fake as the asked digit")
    g_class_norm: bool = False   # conditional models: G's batch norms scale and shift per digit (models.ClassBatchNorm)
    d_twin: bool = False         # conditional models: TAC-GAN's twin class head in D, learned on fakes, kept unsure by G
    ema: float = 0.0           # decay of an exponential moving average of G's weights (0 = off)
    real_label: float = 1.0    # D's target for real images (BCE models); 0.9 = one-sided label smoothing
    optimizer: str = "adam"    # "adam" (RMSprop for wgan-clip, as the WGAN paper) or "sgd" (plain, the slides' alternative)
    batching: str = "random"   # "random": each batch drawn at random; "epochs": shuffled epochs, as a DataLoader
    phase_steps: int = 0       # progressive growing: steps of each phase (7x7, fade-in 14, 14x14, fade-in 28); 0 = none
    equalized_lr: str = "none" # ProGAN's equalized learning rate (He init, each layer's rate times its He constant) in "d" or "both" nets
    lr_cut_at: int = 0         # after this many iterations the rates are times lr_cut: a calmer end for a long run (0 = never)
    lr_cut: float = 0.3        # ... the factor (1 = no cut)
    lr_cut_d: float = 0.0      # ... D's own factor, where it differs from G's (0 = lr_cut for both; 1 = D keeps its rate)
    lr_cut_batch: int = 1      # ... and the batch's: batch_size times this from the cut on (larger batches calm steps too)

    def __post_init__(self):
        from .registry import MODELS
        if self.model not in MODELS:
            raise ConfigError("config.unknown_model", model=self.model, models=", ".join(MODELS))
        for name, (low, high) in BOUNDS.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise ConfigError("config.out_of_range", key=name, value=value, low=low, high=high)
        for name, choices in CHOICES.items():
            if getattr(self, name) not in choices:
                raise ConfigError("config.bad_choice", key=name, value=getattr(self, name), choices=", ".join(choices))
        most = BOUNDS["batch_size"][1] // self.batch_size  # the batch after the cut stays within the bound too (>= 1 here)
        if self.lr_cut_batch > most:
            raise ConfigError("config.out_of_range", key="lr_cut_batch", value=self.lr_cut_batch,
                              low=BOUNDS["lr_cut_batch"][0], high=most)

    @classmethod
    def preset(cls, model: str, **overrides) -> "TrainConfig":
        """The registry's preset for `model`, with any non-None override on top."""
        from .registry import MODELS, get
        if model not in MODELS:
            raise ConfigError("config.unknown_model", model=model, models=", ".join(MODELS))
        return cls.from_dict({"model": model, **get(model).preset,
                              **{k: v for k, v in overrides.items() if v is not None}})

    @classmethod
    def from_dict(cls, d) -> "TrainConfig":
        """Strict: unknown keys and wrong types are refused (a JSON `1` is a fine float, `true` is not a number)."""
        if not isinstance(d, dict):
            raise ConfigError("config.not_object", kind=type(d).__name__)
        unknown = sorted(set(d) - set(TYPES))
        if unknown:
            raise ConfigError("config.unknown_keys", keys=", ".join(map(str, unknown)), known=", ".join(sorted(TYPES)))
        for k, v in d.items():
            if not _fits(v, TYPES[k]):
                raise ConfigError("config.wrong_type", key=k, kind=TYPES[k].__name__, value=json.dumps(v, default=repr))
        return cls(**{k: float(v) if TYPES[k] is float else v for k, v in d.items()})

    @classmethod
    def from_json(cls, text: str | bytes) -> "TrainConfig":
        if len(text) > MAX_JSON_BYTES:
            raise ConfigError("config.not_json", detail=f"larger than {MAX_JSON_BYTES // 1024} KB")
        try:
            d = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
            raise ConfigError("config.not_json", detail=str(e)[:120]) from e
        return cls.from_dict(d)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @property
    def loss(self) -> str:
        """'bce', 'wgan-clip' or 'wgan-gp': the registry's loss family of this model."""
        from .registry import get
        return get(self.model).loss

    @property
    def rate_cuts(self) -> tuple[float, float]:
        """G's and D's factors once the rates are cut (lr_cut_at): lr_cut for both, or D's own (lr_cut_d)."""
        return self.lr_cut, self.lr_cut_d or self.lr_cut

    def cut_has_come(self, iteration: int) -> bool:
        """Whether a run that has made this many iterations is past its cut (lr_cut_at; 0 = none)."""
        return bool(self.lr_cut_at) and iteration >= self.lr_cut_at

    def samples_in(self, iterations: int) -> int:
        """How many examples a run draws in its first `iterations` iterations (batch_at, summed): a throughput that
        stays comparable across the cut, where steps per second do not once the batch grows."""
        before = min(iterations, self.lr_cut_at)  # 0 without a cut: then batch_at is batch_size throughout
        return self.batch_size * before + self.batch_at(iterations) * (iterations - before)

    def batch_at(self, iteration: int) -> int:
        """The batch a run draws once it has made this many iterations: batch_size, times lr_cut_batch after the cut."""
        return self.batch_size * (self.lr_cut_batch if self.cut_has_come(iteration) else 1)

    @property
    def uses_r1(self) -> bool:
        """Whether a run with these settings takes R1's lazy D step (gamma > 0 on a model that takes it)."""
        from .registry import get
        return self.r1 > 0 and get(self.model).takes_r1


TYPES = {f.name: type(f.default) for f in fields(TrainConfig)}
# Style transfer's step size per optimizer when none is given (gan_core.style.StyleJob, the CLI's --lr help): L-BFGS's
# step scale is relative to its own curvature estimate; Adam's is in pixels in [0, 1].
STYLE_LR = {"lbfgs": 1.0, "adam": 0.02}
MAX_JSON_BYTES = 64 * 1024  # a run config is ~1 KB; anything this big is not one

# (low, high), both allowed, for every number a person may set. The app's widgets use these as
# their min/max; the CLI's flags and uploaded configs are checked against them.
BOUNDS = {
    "z_dim": (2, 512),
    "width": (4, 512),
    "g_hidden": (0, 512),          # times 2*width*7*7 weights: 25M at width 512 (the rest of that G: 14M)
    "g_layers": (1, 4),            # models.DCGANGenerator28.MAX_HIDDEN_LAYERS; each g_hidden^2 weights more
    "d_hidden": (0, 512),          # the same size, in D
    "lr_g": (1e-6, 1e9),           # up to absurd on purpose: a diverging run is a lesson too
    "lr_d": (1e-6, 1e9),
    "beta1": (0.0, 0.999),
    "beta2": (0.0, 0.9999),
    "batch_size": (2, 1024),
    "n_critic": (1, 20),
    "clip": (1e-4, 1.0),
    "gp_weight": (0.0, 100.0),
    "gp_every": (1, 64),
    "r1": (0.0, 100.0),
    "r1_every": (1, 64),
    "dropout": (0.0, 0.8),
    "d_acc_max": (0.5, 1.0),
    "g_success_max": (0.5, 1.0),
    "balance_window": (1, 1000),
    "seed": (0, 2**31 - 1),
    "snapshot_every": (1, 1_000_000),
    "n_fixed": (1, 256),
    "max_snapshots": (2, 10_000),
    "num_classes": (0, 10),
    "g_class_weight": (0.0, 10.0),  # 0: G draws no class on purpose; D's head still learns the real digits
    "ema": (0.0, 0.9999),          # 0 = off; 1 would freeze the average at the initial weights
    "real_label": (0.5, 1.0),      # at 0.5 D could not tell real from fake by its target
    "phase_steps": (0, 1_000_000),
    "lr_cut_at": (0, 100_000_000),
    "lr_cut": (0.01, 1.0),         # a factor on the rates: 1 = no cut; over 1 would be a boost, not a calmer end
    "lr_cut_d": (0.0, 1.0),        # 0 = as lr_cut (runs saved before it existed cut both rates alike)
    "lr_cut_batch": (1, 4),        # and batch_size x lr_cut_batch within batch_size's own bound (__post_init__)
}
# The allowed values of every setting that is a word, checked like BOUNDS.
CHOICES = {
    "optimizer": ("adam", "sgd"),
    "batching": ("random", "epochs"),
    "d_norm": ("auto", "batch", "layer", "none"),
    "equalized_lr": ("none", "d", "both"),
}


def _fits(value, kind: type) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, kind)


def check(name: str, value):
    """One field's value, parsed and bounded, or ConfigError: for a CLI flag or a single widget."""
    if not _fits(value, TYPES[name]):
        raise ConfigError("config.wrong_type", key=name, kind=TYPES[name].__name__, value=repr(value))
    if name in CHOICES and value not in CHOICES[name]:
        raise ConfigError("config.bad_choice", key=name, value=value, choices=", ".join(CHOICES[name]))
    low, high = BOUNDS.get(name, (value, value))
    if not low <= value <= high:
        raise ConfigError("config.out_of_range", key=name, value=value, low=low, high=high)
    return float(value) if TYPES[name] is float else value
