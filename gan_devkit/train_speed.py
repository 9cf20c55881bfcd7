"""gan_core's Trainer timed the app's way: bench_train_speed.py's "ours" column, also bench_gpu.py's training side."""
import torch

from gan_core.data import load_mnist
from gan_core.training import TrainConfig, Trainer


def ours(model, data, seconds, device=None, **kw):
    cfg = TrainConfig.preset(model, **kw)
    labels = torch.tensor(load_mnist("train")[1]).long() if cfg.num_classes else None
    t = Trainer(cfg, data, device, labels=labels)
    t.step(3)  # warm-up: allocator, first-call overheads
    t.elapsed, n0 = 0.0, t.iteration
    t.run(seconds=seconds, chunk=5)
    return (t.iteration - n0) / t.elapsed, t.cfg
