"""Past one machine: the processes torchrun starts, training ONE run together (DistributedDataParallel).

PyTorch is the engine: `torchrun` starts the processes and gives each its RANK, WORLD_SIZE, LOCAL_RANK
and the rendezvous; `torch.distributed` joins them (gloo on the CPU, NCCL on CUDA); DDP broadcasts
rank 0's weights once and averages the gradients in every backward. This module is the plumbing
around them, so that the Trainer stays readable:

    launched()                 did torchrun start this process? (RANK and WORLD_SIZE in the environment)
    init() / cleanup()         join / leave torchrun's process group; init() returns this rank's device
    active(), rank(), world_size(), is_main()
    shard(items, rank, world)  this rank's part of the data: items rank, rank + world, ... (tensors, file lists)
    wrap(module, device)       DDP around a module
    Heads(D)                   D's logit and (AC-GAN) class head as one forward(): DDP syncs what goes through forward
    sync_batchnorm(module)     BatchNorm -> nn.SyncBatchNorm (with a CPU version: torch's runs on GPUs only)
    mean(tensor), agree(flag)  small collectives, so every rank takes the same decisions (metrics, time budget)
    lost(err)                  the GanError a front end shows when a rank stops: another rank gone, or its own error

Without torchrun nothing here runs: no process group, no wrapping, the Trainer as on one process.
"""
import datetime
import os
from itertools import chain

import torch
import torch.distributed as dist
from torch import nn

from .messages import GanError

DEFAULT_TIMEOUT_S = 300.0  # how long a collective waits for a missing rank before it fails (no endless hang)


def launched() -> bool:
    """True when torchrun (or any env:// launcher) started this process."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def active() -> bool:
    """True inside a process group (init() was called)."""
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    return dist.get_rank() if active() else 0


def world_size() -> int:
    return dist.get_world_size() if active() else 1


def is_main() -> bool:
    """Rank 0: the one process that writes logs, samples, checkpoints and the model folder."""
    return rank() == 0


def init(timeout_s: float = DEFAULT_TIMEOUT_S, device=None) -> torch.device:
    """Join the process group torchrun describes (its environment: env://) and return this rank's device.

    CUDA: NCCL, and LOCAL_RANK picks the GPU. Otherwise gloo on the CPU, where each of the node's
    LOCAL_WORLD_SIZE processes gets its share of the cores (two processes with two threads each on two
    cores would fight over them). `timeout_s`: how long a collective waits for a rank that is gone.
    """
    from .device import available_cpus, get_device
    device = torch.device(device) if device else get_device()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise GanError("dist.no_gpu", rank=int(os.environ.get("RANK", "0")), local_rank=local_rank,
                           count=torch.cuda.device_count())
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")  # gloo moves CPU tensors only (no MPS)
        torch.set_num_threads(max(1, available_cpus() // int(os.environ.get("LOCAL_WORLD_SIZE", "1"))))
    if not active():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo",
                                timeout=datetime.timedelta(seconds=timeout_s),
                                device_id=device if device.type == "cuda" else None)
    return device


def cleanup() -> None:
    """Leave the process group at the end of a run, all ranks together (a no-op outside one).

    Drop the DDP wrappers first (Trainer.close()): they hold the group, and a gloo group freed only
    at interpreter exit can abort the process there (std::terminate), failing a finished job."""
    if active():
        import gc
        gc.collect()
        dist.barrier()  # no rank tears down its connections while another still finishes (rank 0 saving)
        dist.destroy_process_group()


def shard(items, rank_: int | None = None, world: int | None = None):
    """Items rank, rank + world, rank + 2*world, ... of a tensor (along dim 0) or a list: this rank's data.

    The index space is dealt out like cards, so the shards differ in size by one at most and the
    union of all ranks' shards is the whole, each item once."""
    r = rank() if rank_ is None else rank_
    w = world_size() if world is None else world
    part = items[r::w]
    return part.contiguous() if isinstance(part, torch.Tensor) else part


def wrap(module: nn.Module, device: torch.device) -> nn.Module:
    """DDP around `module`: rank 0's weights are broadcast now, gradients averaged in every backward.
    A network that leaves some weights out of a forward (progressive growing: the resolutions not reached
    yet) has DDP look for them after each forward, or its reducer would wait for their gradients forever."""
    from torch.nn.parallel import DistributedDataParallel
    skips = any(getattr(m, "skips_weights", False) for m in module.modules())
    return DistributedDataParallel(module, device_ids=[device.index] if device.type == "cuda" else None,
                                   find_unused_parameters=skips)


class Heads(nn.Module):
    """D as one forward(): its real/fake logit, or with `classes` (AC-GAN) also its digit logits.

    DDP synchronises only what goes through forward(), so D's class head (forward_with_classes)
    must go through it too. Holds no weights of its own: its state is D's."""

    def __init__(self, D: nn.Module):
        super().__init__()
        self.D = D

    def forward(self, x, classes: bool = False, twin: bool = False):
        return self.D.forward_with_classes(x, twin) if classes else self.D(x)


class _AllReduceSum(torch.autograd.Function):
    """The sum over ranks, differentiable: each rank's input feeds every rank's output, so the gradient
    of an input is the sum of all ranks' output gradients (torch.distributed.nn's, now deprecated)."""

    @staticmethod
    def forward(ctx, x):
        x = x.clone()
        dist.all_reduce(x)
        return x

    @staticmethod
    def backward(ctx, grad):
        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


class CPUSyncBatchNorm(nn.modules.batchnorm._BatchNorm):
    """SyncBatchNorm for ranks on the CPU (gloo): torch's nn.SyncBatchNorm refuses CPU tensors, and DDP
    refuses it on CPU modules.

    In training, the mean and variance are those of the GLOBAL batch, all ranks' samples together,
    through a differentiable all-reduce (so the backward is synchronised too);
    in eval mode, or outside a process group, it is plain BatchNorm. Same weights and buffers as
    BatchNorm, so a saved model loads into the plain architecture."""

    def _check_input_dim(self, x):
        if x.dim() < 2:
            raise ValueError(f"expected at least 2-D input (N, C, ...), got {x.dim()}-D")

    def forward(self, x):
        if not (self.training and active()):
            return super().forward(x)
        dtype, x = x.dtype, x.float()  # statistics in fp32 under bf16 autocast, as BatchNorm keeps them
        all_reduce = _AllReduceSum.apply
        dims = [0, *range(2, x.dim())]
        shape = [1, -1] + [1] * (x.dim() - 2)
        sums = all_reduce(torch.cat([x.sum(dims), x.new_tensor([x.numel() // x.shape[1]])]))  # + the sample count
        count = sums[-1].detach()
        mean = sums[:-1] / count
        var = all_reduce(((x - mean.view(shape)) ** 2).sum(dims)) / count  # two passes: as exact as BatchNorm's
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                m = self.momentum if self.momentum is not None else 1.0 / self.num_batches_tracked.item()
                self.running_mean.lerp_(mean.detach(), m)
                self.running_var.lerp_(var.detach() * count / (count - 1).clamp(min=1), m)  # unbiased, as BatchNorm
        y = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        return (y * self.weight.view(shape) + self.bias.view(shape) if self.affine else y).to(dtype)


def sync_batchnorm(module: nn.Module) -> nn.Module:
    """Every BatchNorm in `module` computes its statistics over all ranks' samples: nn.SyncBatchNorm on
    GPUs, CPUSyncBatchNorm on the CPU. Convert before building optimizers; the weights stay the same tensors."""
    if next(chain(module.parameters(), module.buffers())).device.type != "cpu":  # a BatchNorm may have no weights
        return nn.SyncBatchNorm.convert_sync_batchnorm(module)
    if isinstance(module, nn.modules.batchnorm._BatchNorm) and not isinstance(module, CPUSyncBatchNorm):
        bn = CPUSyncBatchNorm(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats)
        for name in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
            setattr(bn, name, getattr(module, name))
        return bn.train(module.training)
    for name, child in module.named_children():  # every BatchNorm, also one without weights (ClassBatchNorm's)
        has_bn = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in child.modules())
        module.add_module(name, sync_batchnorm(child) if has_bn else child)
    return module


def mean(t: torch.Tensor) -> torch.Tensor:
    """The ranks' average of a small tensor (e.g. one iteration's metrics); itself on one process."""
    if world_size() == 1:
        return t
    t = t.clone()
    dist.all_reduce(t)
    return t / world_size()


def agree(flag: bool, device) -> bool:
    """True on every rank if `flag` is True on any: e.g. "my time budget is spent", so all stop at one step."""
    if world_size() == 1:
        return flag
    t = torch.tensor([float(flag)], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


# What a failed collective says: torch's DistError (NCCL, the store, the network), or gloo's plain RuntimeError
# from its transport ("[.../gloo/transport/tcp/...] Timed out waiting", "Connection closed by peer").
_PEER_SIGNS = ("gloo", "nccl", "timed out", "connection", "by peer")


def lost(err: BaseException, step: int | None = None) -> GanError:
    """The refusal a front end shows when a rank's training raised: "dist.lost" when a collective failed
    (another rank died, hung past the timeout, or the network between the nodes dropped), "dist.failed"
    when this rank's own work did (out of memory, a model DDP cannot train): the cause is here, not elsewhere."""
    detail = " ".join(str(err).split())[:200]
    peer = isinstance(err, dist.DistError) or any(sign in str(err).lower() for sign in _PEER_SIGNS)
    return GanError("dist.lost" if peer else "dist.failed", rank=rank(), world=world_size(),
                    step=step if step is not None else "?", detail=f"{type(err).__name__}: {detail}")
