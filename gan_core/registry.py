"""Every GAN variant gan_core trains, declared once: what it is built from and who offers it.

The CLI's --model choices, the training page's model list, the Architectures page's designs (built
with the exact arguments the trainer uses) and the tests all read SPECS. Adding a variant is one
ModelSpec here (plus its classes in models.py if they are new, and its name in the locale files:
key "model.<name>").
"""
from dataclasses import dataclass

from .messages import GanError

FRONT_ENDS = ("cli", "train", "arch")  # the command line, the training page, the Architectures page


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str                  # how the pair is built: a key of BUILDERS
    loss: str                    # "bce" (non-saturating on logits, AC-GAN when conditional), "bce-sigmoid" (the
                                 # slides' loop: see losses.BCE_FAMILIES), "wgan-clip", "wgan-gp" or "elbo" (the
                                 # VAE: not a GAN, see gan_core.vae)
    preset: dict                 # TrainConfig defaults for this model (measured in bench/)
    sizes: dict                  # image size -> channels it is offered at; the first is the default
    data: tuple = ("digits",)    # the data kinds it trains on: "digits" (MNIST), "images" (see gan_core.datasets)
    front_ends: tuple = FRONT_ENDS
    about: str = ""              # one line for developers (the UI's text lives in the locale files)

    @property
    def conditional(self) -> bool:
        return self.preset.get("num_classes", 0) > 0

    @property
    def wgan(self) -> bool:
        """A Wasserstein model: its second network is a critic (raw scores), not a discriminator."""
        return self.loss.startswith("wgan")

    @property
    def adversarial(self) -> bool:
        """A GAN: G against a discriminator or critic. False for the VAE, whose second network is an encoder
        (no D to score an image, no turns to balance or to step one at a time)."""
        return self.loss != "elbo"

    @property
    def takes_r1(self) -> bool:
        """R1 penalises D's gradient at real images through its logits: the BCE models on logits only
        (not a critic, whose gradient norm is the penalty's business already; not the slides' sigmoid)."""
        return self.loss == "bce"

    @property
    def roles(self) -> tuple[str, str]:
        """What build()'s two networks are: ("generator", "discriminator" or "critic") or ("decoder", "encoder")."""
        if not self.adversarial:
            return "decoder", "encoder"
        return "generator", "critic" if self.wgan else "discriminator"

    @property
    def locale_key(self) -> str:
        """Locale key of the model's display name."""
        return f"model.{self.name}"

    @property
    def img_size(self) -> int:
        return next(iter(self.sizes))

    @property
    def channels(self) -> int:
        return self.sizes[self.img_size]

    def build(self, cfg, channels: int | None = None, img_size: int | None = None):
        """(generator, discriminator/critic) for `cfg`, at the spec's default shape unless given."""
        img_size = img_size or self.img_size
        if img_size not in self.sizes:
            raise GanError("train.bad_img_size", model=self.name, size=img_size,
                           sizes=" or ".join(map(str, self.sizes)))
        channels = channels or self.sizes[img_size]
        if cfg.num_classes and (self.family != "dcgan" or img_size != 28 or self.loss != "bce"):
            raise GanError("train.conditional_28_only")  # the other builders would ignore the labels
        if cfg.g_class_norm and not cfg.num_classes:
            raise GanError("train.class_norm_needs_classes")  # a norm per digit needs the digit
        if cfg.d_twin and not cfg.num_classes:
            raise GanError("train.twin_needs_classes")  # so does a head that guesses the fakes' digits
        if cfg.d_norm != "auto" and self.family != "dcgan":
            raise GanError("train.d_norm_dcgan_only", model=self.name)  # the other builders have no such choice
        return BUILDERS[self.family](cfg, channels, img_size, self.loss)


# Each builder imports its classes when it builds: the CLI's parser reads SPECS (its --model choices, its help)
# without importing torch, which takes seconds on a 2-core laptop.
def _mlp(cfg, channels, img_size, loss):
    from .models import MLPDiscriminator, MLPGenerator
    return (MLPGenerator(cfg.z_dim, cfg.width, img_size, channels, cfg.dropout),
            MLPDiscriminator(cfg.width, img_size, channels, cfg.dropout))


def _slides(cfg, channels, img_size, loss):
    from .models import SlidesDiscriminator, SlidesGenerator
    return SlidesGenerator(cfg.z_dim, cfg.width), SlidesDiscriminator(cfg.width)


def _dcgan(cfg, channels, img_size, loss):
    from .models import DCGANDiscriminator28, DCGANDiscriminator64, DCGANGenerator28, DCGANGenerator64
    # "auto": a WGAN critic has no batch norm, as WGAN-GP's must not (its penalty is per sample); a preset may say
    # otherwise (the clipped WGAN's critic has it, as the WGAN paper's DCGAN critic did).
    norm = cfg.d_norm if cfg.d_norm != "auto" else "batch" if loss == "bce" else "none"
    if img_size in (28, 32):
        return (DCGANGenerator28(cfg.z_dim, cfg.width, channels, num_classes=cfg.num_classes, img_size=img_size,
                                 hidden=cfg.g_hidden, class_norm=cfg.g_class_norm, hidden_layers=cfg.g_layers),
                DCGANDiscriminator28(cfg.width, channels, norm, cfg.dropout, num_classes=cfg.num_classes, img_size=img_size,
                                     hidden=cfg.d_hidden, twin=cfg.d_twin))
    return DCGANGenerator64(cfg.z_dim, cfg.width, channels), DCGANDiscriminator64(cfg.width, channels, norm)


def _face(cfg, channels, img_size, loss):
    from .models import FaceExerciseDiscriminator, FaceExerciseGenerator
    # G's dropout is lighter: it only adds noise there, while D's must stop it memorising the faces.
    return (FaceExerciseGenerator(cfg.z_dim, cfg.width, channels, img_size, cfg.dropout / 3),
            FaceExerciseDiscriminator(cfg.width, channels, img_size, dropout=cfg.dropout))


def _vae(cfg, channels, img_size, loss):
    from .vae import VAEDecoder, VAEEncoder
    return VAEDecoder(cfg.z_dim, cfg.width, channels), VAEEncoder(cfg.z_dim, cfg.width, channels)


def _progressive(cfg, channels, img_size, loss):
    from .progressive import ProgressiveDiscriminator, ProgressiveGenerator
    # D's dense layer (d_hidden) as ProGAN's D ends; G's (g_hidden) is DCGAN's, not ProGAN's: not here
    return ProgressiveGenerator(cfg.z_dim, cfg.width, channels), ProgressiveDiscriminator(cfg.width, channels, cfg.d_hidden)


BUILDERS = {"slides": _slides, "mlp": _mlp, "dcgan": _dcgan, "face": _face, "vae": _vae, "progressive": _progressive}
DCGAN_SIZES = {28: 1, 32: 3, 64: 3}  # MNIST digits; small and 64x64 RGB pictures (faces); each takes grey or RGB
IMAGE_DATA = ("digits", "images")  # models that train on MNIST and on any picture set

SPECS = {s.name: s for s in (
    # Every convolutional preset keeps its tensors channels_last (NHWC): the same sums in another memory layout
    # (dropout draws its masks in memory order: other masks, as random), 7-27% more steps a second on an AVX2 CPU
    # in fp32, none lost on an AVX512-BF16 one (bench/bench_switch.py, docs/benchmarks.md).
    # The app's default: the one that gives recognizable digits fastest on a 2-core CPU. As DCGAN's own MNIST
    # code, the DCGAN family's G has a dense layer (256 units) before its 7x7 maps (g_hidden) and, where D is
    # not the clipped WGAN's critic, D one before its score (d_hidden): measured in docs/benchmarks.md. Adam
    # as ProGAN's (betas 0, 0.99) at 2e-3: 96-97% confident at 10 s in three seeds (88-93% with 0.5, 0.999 at 1e-3).
    # G's class term weighted 0.3 (0.2 since the twin head, below): the full AC-GAN reward makes G draw the digits
    # easiest to read, less varied than MNIST's (Frechet distance at 30 s 18.0 against 21.5, five seeds). G learns at twice D's rate, as in
    # `dcgan` and `wgan` (and `progressive` until its D took the equalized learning rate): 95.1% confident at 10 s against 92.3% (four seeds, a slower machine).
    # G's batch norms scale and shift per digit (g_class_norm): Frechet distance at 30 s 16.7 against 18.7, five seeds.
    # D's twin class head (TAC-GAN, d_twin) learns the fakes' digits and G is paid, at the class term's weight, to
    # keep it unsure: the AC-GAN head's pull towards the easiest-to-read way of drawing is cancelled.
    # Frechet distance at 30 s 14.8 against 17.5 (six seeds; 98.5% confident), ~2 points less at 10 s. With the twin,
    # both terms at 0.2 rather than 0.3: 14.4 against 15.9, six seeds, the 10 s figure level (93.7 / 93.2%).
    # Width 24, not 32 (a third more steps in the same seconds): on a 2-core CPU with half the bf16 peak of the
    # machine most figures here come from (~430 GFLOP/s), 92.2% against 86.0% confident at 10 s, higher in six seeds
    # of six; 98.6% against 97.9% at 30 s, Frechet 16.0 against 16.7; runs of like step counts
    # read alike at either width, so the gain is the steps (not an equal-steps comparison).
    # Width 16, not 24: on a 2-core AVX2 CPU without native bf16 (fp32, as most classroom laptops compute), 90.8%
    # against 87.0% confident at 10 s, higher in five seeds of six, in 1.3x the steps; at 30 s 98.5% against 98.4%,
    # Frechet 15.5 against 15.8. Its channels (16, 32) are multiples of 16, where channels_last batch norm runs fast
    # (in bf16 and fp32 alike). On an AVX512-BF16 CPU (Zen 4), with the cut below, width 24 read Frechet 13.6 against
    # 11.6 at 30 s, farther in three seeds of three, as sure (98.4 / 98.2%): 16 there too.
    # The rates times 0.3 from iteration 1,000 on (lr_cut_at; after every machine's 10 s, at 17-26 s where a
    # machine trains 1,100-1,800 steps in 30 s, after 30 s on slower ones): smaller last steps let the game settle.
    # On a 2-core CPU with AMX, Frechet distance at 30 s 11.3 against 13.8 (seeds 3-5) and 10.3 against 12.0 (seeds
    # 0-1), lower in five seeds of five, 98.1-98.8% confident against 98.9-99.1%; trained on, 8.8 against 9.9 at two
    # minutes and 9.0 against 11.2 at four (lower in both seeds each time): docs/benchmarks.md.
    # G's rate only (lr_cut_d=1: D keeps its rate): a D that stays quick keeps judging the settling G sharply.
    # On the same AMX machine, Frechet at 30 s 9.1 against 10.4 (seeds 0-2), 9.8 against 11.8 (seeds 3-5) and 10.2
    # against 11.2 (seeds 6-8), lower in nine seeds of nine, 98.0% confident against 98.2-98.7%; D cut harder instead
    # (x0.15) 14.3 against 10.2. Tuned for the page's 30 s: trained two minutes, both cut read lower (8.3 against 10.1).
    # And the batch doubled at the cut (lr_cut_batch=2; Smith et al. 2018: a larger batch calms the steps as a smaller
    # rate does): on the AMX machine Frechet at 30 s 9.2 against 10.3 (nine seeds, lower in nine of nine), in 0.9x the
    # steps, as sure (98.1% against 98.1%); x1.5 was closer in three seeds of six, x4 farther (too few steps). Trained
    # two minutes, 7.6 against 10.2 (two seeds, both under the 7.9 target): the batch keeps the game settling after 30 s.
    ModelSpec("cdcgan", "dcgan", "bce", sizes={28: 1}, about="conditional DCGAN with an AC-GAN head: pick the digit",
              preset=dict(z_dim=100, width=16, g_hidden=256, d_hidden=256, lr_g=4e-3, lr_d=2e-3, beta1=0.0, beta2=0.99,
                          batch_size=64, n_critic=1, num_classes=10, g_class_weight=0.2, g_class_norm=True, d_twin=True,
                          bf16=True, channels_last=True, ema=0.99, lr_cut_at=1000, lr_cut_d=1.0, lr_cut_batch=2)),
    # The seed slides' FNN GAN line for line: leaky_relu (0.01), D's sigmoid + nn.BCELoss, d_loss halved,
    # fresh noise for G's turn, shuffled epochs, Adam with its default betas (SGD: optimizer="sgd").
    # The deck's code reads lr=lr and batch_size without values; 2e-4 and 100 are the figures this
    # project has always attributed to the slides (docs/benchmarks.md), 100 divides MNIST's 60,000.
    ModelSpec("slides", "slides", "bce-sigmoid", sizes={28: 1}, about="the slides' FNN GAN, line for line",
              preset=dict(z_dim=64, width=256, lr_g=2e-4, lr_d=2e-4, beta1=0.9, beta2=0.999, batch_size=100,
                          n_critic=1, optimizer="adam", batching="epochs")),
    # The tuned FNN: the slides' sizes with ReLU in G, LeakyReLU(0.2) and logits in D, lr 1e-3, an EMA of G
    # (measured in bench/, see bench/bench_slides.py for slides vs mlp), bf16 (1.5x the steps in a minute)
    # and one-sided label smoothing (D's real target 0.9): bench/bench_minute.py, docs/benchmarks.md.
    # The EMA's decay 0.998, not 0.99: +0.9 to +2.9 points and a lower Frechet distance in 7 seeds of 7, at a
    # slow hour's ~3,600 steps and a usual hour's 8,000 (several averages scored in one run). Batches of 100:
    # in fp32 (an AVX2 CPU, a common laptop) a step of 200 costs ~1.45x one of 100, and 100 read 77.3% against
    # 74.8% confident at 60 s, Frechet 79 against 109 (six seeds); with native bf16 a step of 200 cost ~1.17x
    # and 200 read 80.2% against 78.6% (EMA 0.99, eight runs against five): docs/benchmarks.md. Adam's betas
    # (0, 0.99), ProGAN's, as dcgan's and the default's: 78.9% against 76.0% at 60 s in fp32, higher in six seeds
    # of six (+1.2 to +4.6), Frechet 78 against 88 (DCGAN's 0.5, 0.999 before). With them, G at twice D's rate
    # (as dcgan's; no gain with the old betas): 81.4% against 79.8%, Frechet 38 against 73 (lower in six seeds of
    # six), every digit at >= 7.2% against >= 4.5%; G at 3e-3 78.4% (one seed).
    ModelSpec("mlp", "mlp", "bce", sizes={28: 1}, about="the tuned FNN GAN (the slides' sizes, tuned)",
              preset=dict(z_dim=64, width=256, lr_g=2e-3, lr_d=1e-3, beta1=0.0, beta2=0.99, batch_size=100, n_critic=1,
                          ema=0.998, bf16=True, real_label=0.9)),
    # G at twice D's learning rate: D's task is the easier one and it learns faster per step (81.2% against
    # 76.1% confident at 60 s, two seeds, Frechet distance halved: docs/benchmarks.md). Adam's betas (0, 0.99),
    # ProGAN's, as the default's: 80.8% against 78.4% at 60 s in fp32, six seeds, Frechet distance 29 against 50.
    # G at three times D's rate (3e-3): Frechet 25.7 against 29.0, lower in six seeds of six, 81.5% against 80.6%
    # confident (higher in three of six), in fp32.
    # Width 24, not 32: 82.4% against 80.7% at 60 s in fp32 (AVX2), higher in six seeds of six, Frechet 21.3
    # against 27.5 (lower in six of six), in 1.3x the steps. On the emoji pictures at 32 px its 60 s grid reads as
    # width 32's did.
    ModelSpec("dcgan", "dcgan", "bce", sizes=DCGAN_SIZES, data=IMAGE_DATA, about="unconditional DCGAN",
              preset=dict(z_dim=100, width=24, g_hidden=256, d_hidden=256, lr_g=3e-3, lr_d=1e-3, beta1=0.0, beta2=0.99,
                          batch_size=64, n_critic=1, bf16=True, channels_last=True, ema=0.99)),
    # The WGANs' presets are tuned for a class period (bench/bench_minute.py, docs/benchmarks.md): the papers'
    # recipes (n_critic 5, lr 1e-4 / 5e-5, width 64, fp32) show no digit within a minute on 2 cores. One critic
    # update per G update at a higher rate (as TTUR's WGAN-GP), width 32, bf16, an EMA of G, and for WGAN-GP
    # the penalty lazily on every 4th update, the paper's Adam beta1 of 0 and a dense layer before the
    # critic's score: 0% -> 60% (clipping) and 3.8% -> 81% (penalty) confident at 60 s. The clipped WGAN's G
    # at twice its critic's rate: +7 points (three seeds); WGAN-GP's G at twice its rate: no clear gain then (see below). WGAN-GP
    # in batches of 32: ~1.6x the steps in a minute, 77.8% against 75.4% confident at 60 s (ten runs, four; six pairs of six).
    # Both WGANs' G maps the noise through two dense layers of 256 (g_layers=2), not one: +4.7 points (WGAN-GP,
    # 79.9% against 75.2%, five seeds, every pair) and +6.3 (clipping, two seeds) at 60 s, measured in fp32.
    # WGAN-GP's penalty weighted 5, not the paper's 10: all 10 digits in six seeds of six against one of six on a
    # slow machine (1,100-1,500 steps a minute), Frechet distance 58 against 90, as confident (77.0 / 76.7%).
    # With all of these, G at twice the critic's rate (4e-3), as the other presets: 80.8% against 78.3% confident
    # at 60 s in fp32, higher in five seeds of six, every digit in six of six, Frechet distance 43 against 47.
    # Then the penalty weighted 2 and width 24 (both nets; ~10% more steps a minute): 84.4% against 83.3% on a CPU
    # with native bf16 (2,100-2,800 steps a minute), nine seeds, higher in six (one tie), Frechet distance 25 against 29.
    ModelSpec("wgan-gp", "dcgan", "wgan-gp", sizes=DCGAN_SIZES, data=IMAGE_DATA,
              about="Wasserstein GAN with gradient penalty",
              preset=dict(z_dim=100, width=24, g_hidden=256, g_layers=2, d_hidden=256, lr_g=4e-3, lr_d=2e-3, beta1=0.0, beta2=0.9,
                          batch_size=32, n_critic=1, gp_weight=2.0, gp_every=4, bf16=True, channels_last=True,
                          ema=0.99)),
    # The clipped WGAN's critic has batch norm, as the WGAN paper's DCGAN critic (d_norm): 68.6% against 60.0%
    # confident at 60 s, six seeds, every pair, in fp32 (10 digits in three seeds against one). Its weights clipped
    # to 0.015, not the paper's 0.01: 74.1% against 68.5% on a CPU with native bf16, five seeds of five, the Frechet
    # distance lower in five of five (0.005 fell to 55-59%; in fp32 on an AVX2 CPU 0.02 lost digits, and 0.015 read
    # 2-3 points higher in two seeds, but 8 digits against 10 in one: unmeasured there since).
    ModelSpec("wgan", "dcgan", "wgan-clip", sizes=DCGAN_SIZES, data=IMAGE_DATA, about="Wasserstein GAN with weight clipping",
              preset=dict(z_dim=100, width=32, g_hidden=256, g_layers=2, d_norm="batch", lr_g=1e-3, lr_d=5e-4, beta1=0.5,
                          batch_size=64, n_critic=1, clip=0.015, bf16=True, channels_last=True, ema=0.99)),
    # Progressive growing on MNIST: 7x7, fade-in 14x14, 14x14, fade-in 28x28 (phase_steps each), then 28x28.
    # D ends with a dense layer as ProGAN's does (d_hidden), bf16: 61% -> 71% confident at 60 s (docs/benchmarks.md);
    # G at twice D's learning rate: +2.7 points, two seeds. ProGAN's own Adam betas (0, 0.99), not DCGAN's (0.5,
    # 0.999): 66.2% against 58.5% confident at 60 s in fp32, higher in five seeds of five, Frechet 99 against 150.
    # Phases of 200 steps, not 300 (28x28 from step 800, not 1,200: a minute here is 1,100-1,500 steps): 63.8%
    # against 57.3%, six seeds of six. Then both rates doubled (G 4e-3, D 2e-3, the default's): 71.1% against 66.4%,
    # six seeds of six, Frechet 71 against 92; G 6e-3 / D 3e-3 lost digits, widths 24 and 32 too few steps.
    # D with ProGAN's equalized learning rate (gan_core.equalized) at 1e-2, G as it was: 78.3% against 75.8%, six
    # seeds of six, Frechet 52 against 64 (lower in six of six); both nets equalized (4e-2 / 2e-2) were as sure
    # (78.2%) but dropped a digit in six runs of nine, and at 6e-2 / 3e-2 one seed collapsed to five digits.
    # R1 on D (gamma 3, lazily every 16th iteration, as StyleGAN2): 81.4% against 78.2% confident at 60 s (six seeds,
    # every pair), Frechet distance 20 against 57, every digit in six seeds of six against three; every 4th iteration
    # 80.5% (it costs steps), gamma 1 or 10 no better.
    # Batches of 32, not 64: in fp32 (a 2-core AVX2 CPU, as most classroom laptops) 1.5x the steps in a minute, 77.0%
    # against 75.1% confident at 60 s, higher in five seeds of six, Frechet distance 34 against 45, lower in six of six
    # (batches of 16: 2.2x the steps, no surer). Not yet measured on a CPU with native bf16, where a step of 64 costs
    # less against one of 32 (level there in an eleventh session, with the preset of then).
    ModelSpec("progressive", "progressive", "bce", sizes={28: 1}, about="progressive growing 7 -> 14 -> 28 with fade-in",
              preset=dict(z_dim=100, width=16, d_hidden=256, lr_g=4e-3, lr_d=1e-2, beta1=0.0, beta2=0.99, batch_size=32,
                          n_critic=1, ema=0.99, bf16=True, channels_last=True, phase_steps=200, equalized_lr="d",
                          r1=3.0)),
    # Not a GAN: the lesson's point of comparison ("VAE results are blurry"), its decoder DCGAN's G in shape.
    ModelSpec("vae", "vae", "elbo", sizes={28: 1}, about="a small convolutional VAE (ELBO), to race against a GAN",
              preset=dict(z_dim=16, width=32, lr_g=1e-3, lr_d=1e-3, beta1=0.9, beta2=0.999, batch_size=64, n_critic=1,
                          channels_last=True)),
    # The face-GAN exercise (64x64 RGB folders; 32 px for a faster class run): dropout in both nets, as it asks.
    ModelSpec("face-exercise", "face", "bce", sizes={64: 3, 32: 3}, data=("images",),
              about="the face exercise's Conv+MaxPool / Unpool+Deconv design",
              preset=dict(z_dim=100, width=32, lr_g=2e-4, lr_d=2e-4, beta1=0.5, batch_size=64, n_critic=1, dropout=0.3,
                          channels_last=True)),
)}
MODELS = tuple(SPECS)
DEFAULT_MODEL = "cdcgan"


def get(name: str) -> ModelSpec:
    if name not in SPECS:
        from .config import ConfigError
        raise ConfigError("config.unknown_model", model=name, models=", ".join(MODELS))
    return SPECS[name]


def offered(front_end: str, data: str | None = None) -> tuple[str, ...]:
    """Names of the models `front_end` offers (for `data`, if given), the default first."""
    names = [s.name for s in SPECS.values() if front_end in s.front_ends and (data is None or data in s.data)]
    return tuple(sorted(names, key=lambda n: n != DEFAULT_MODEL))
