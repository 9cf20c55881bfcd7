"""bench/bench_minute.py judges what the issue asks: several seeds as their mean, every digit in every seed."""
from gan_devkit.bench_scripts import load

bench = load("bench_minute")  # it imports its neighbour bench_step_flops, as when run from bench/


def row(seconds, steps, confident, digits=10, min_share=0.09, frechet=15.0, error=None):
    return {"seconds": seconds, "steps": steps, "confident_share": confident, "classes_covered": digits,
            "min_class_share": min_share, "frechet": frechet, "error": error}


def test_seeds_are_averaged_checkpoint_by_checkpoint_and_the_worst_digits_kept():
    a = [row(10.0, 300, 0.95, min_share=0.09, frechet=40.0), row(30.0, 900, 0.99, frechet=14.0)]
    b = [row(10.2, 250, 0.86, digits=9, min_share=0.04, frechet=60.0, error="train.diverged"),
         row(30.0, 700, 0.97, frechet=17.0)]
    ten, thirty = bench.mean_rows([a, b])
    assert ten["confident_share"] == 0.905 and ten["frechet"] == 50.0 and ten["steps"] == 275
    assert ten["seconds"] == 10.1 and thirty["steps"] == 800 and thirty["frechet"] == 15.5
    assert ten["classes_covered"] == 9 and ten["min_class_share"] == 0.04  # the worst seed's, not the mean
    assert ten["error"] == "train.diverged" and thirty["error"] is None
    assert bench.mean_rows([a]) == a  # one seed: its own rows


def test_the_default_needs_both_checkpoints_and_the_frechet_bound():
    real = 5.28  # the bound is 1.5x the real images': 7.92
    good = [row(10, 300, 0.91), row(30, 900, 0.975, frechet=7.9)]
    assert bench.met("cdcgan", good, real, "cdcgan") is True
    assert bench.met("cdcgan", [good[0], {**good[1], "frechet": 8.0}], real, "cdcgan") is False
    assert bench.met("cdcgan", [{**good[0], "confident_share": 0.89}, good[1]], real, "cdcgan") is False
    assert bench.met("cdcgan", [{**good[0], "min_class_share": 0.049}, good[1]], real, "cdcgan") is False
    assert bench.met("cdcgan", [good[0], {**good[1], "confident_share": 0.969}], real, "cdcgan") is False


def test_other_models_need_80_percent_and_every_digit_and_the_slides_have_no_target():
    assert bench.met("wgan", [row(60, 1700, 0.80)], 5.28, "cdcgan") is True
    assert bench.met("wgan", [row(60, 1700, 0.799)], 5.28, "cdcgan") is False
    assert bench.met("wgan", [row(60, 1700, 0.95, digits=9)], 5.28, "cdcgan") is False
    assert bench.met("slides", [row(60, 7000, 0.1, digits=3)], 5.28, "cdcgan") is None


def test_the_textbook_critics_keep_their_papers_norm_whatever_the_preset():
    """The WGAN paper's code gives its DCGAN critic batch norm; WGAN-GP's must have none (a per-sample
    penalty); the tutorial's D has it. Spelled out, so a preset's d_norm never moves a textbook run."""
    import torch
    from gan_core import registry
    from gan_core.config import TrainConfig

    def has_batch_norm(name):
        model, over = bench.TEXTBOOK[name]
        _, d = registry.get(model).build(TrainConfig.preset(model, **over))
        return any(isinstance(m, torch.nn.BatchNorm2d) for m in d.modules())
    assert has_batch_norm("wgan") and has_batch_norm("dcgan") and not has_batch_norm("wgan-gp")
    for name in ("wgan", "wgan-gp", "dcgan", "cdcgan"):
        assert bench.TEXTBOOK[name][1]["d_norm"] != "auto"


def test_draws_pool_as_a_mean_with_the_worst_digits_and_each_distance_kept():
    a = {"confident_share": 0.98, "classes_covered": 10, "min_class_share": 0.08, "frechet": 8.0}
    b = {"confident_share": 0.96, "classes_covered": 9, "min_class_share": 0.04, "frechet": 9.5}
    pooled = bench.pool_draws([a, b])
    assert pooled["confident_share"] == 0.97 and pooled["frechet"] == 8.75
    assert pooled["classes_covered"] == 9 and pooled["min_class_share"] == 0.04  # the worst draw's
    assert pooled["frechet_draws"] == [8.0, 9.5]
    assert bench.pool_draws([b]) == {"confident_share": 0.96, "classes_covered": 9, "min_class_share": 0.04,
                                     "frechet": 9.5}  # one draw: itself, no list


def test_more_draws_keep_the_first_one_and_add_other_noise():
    """draws=1 reads as the benches always have; each further draw is another noise batch of the same G."""
    from types import SimpleNamespace

    import pytest
    import torch

    from gan_core import registry
    from gan_core.config import TrainConfig
    torch.manual_seed(0)
    G, _ = registry.get("mlp").build(TrainConfig.preset("mlp", width=16))
    t = SimpleNamespace(generator=G, elapsed=1.0, iteration=7, error=None)
    one, three = bench.score(t, seed=2), bench.score(t, seed=2, draws=3)
    assert one["frechet"] == three["frechet_draws"][0]
    assert len(set(three["frechet_draws"])) == 3  # not the same batch three times
    assert three["frechet"] == pytest.approx(sum(three["frechet_draws"]) / 3, abs=0.01) and three["steps"] == 7
