"""Pick one device for the whole process: cuda, then mps, else the CPU with threads clamped.

torch defaults to one thread per *visible* core, which inside a container with a CPU quota
oversubscribes the real allowance and makes every op slower. We count the CPUs really
available (affinity mask and cgroup quota); gan_core.compute's thread policy (rule 1) sets it once.
"""
import math
import os
import platform
from pathlib import Path

import torch

from .compute import clamp_process_threads

from .messages import Message

_chosen = None


def available_cpus() -> int:
    """CPUs this process may really use: min(affinity mask, cgroup v2/v1 quota)."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        n = os.cpu_count() or 1
    quota = _cgroup_quota()
    if quota:
        n = min(n, max(1, math.floor(quota)))
    return max(1, n)


def _cgroup_quota():
    """CPUs the cgroup's quota allows (v2's cpu.max, else v1's pair of files), or None: no quota, or none to read.
    v2 writes no limit as "max" and v1 as -1: the first is no number (ValueError), the second below 0. A period of
    0, which no kernel writes, is no quota either."""
    v2 = Path("/sys/fs/cgroup/cpu.max")
    try:
        if v2.exists():
            q, period = v2.read_text().split()
            return int(q) / int(period)
        qv = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
        return None if qv <= 0 else qv / int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
    except (OSError, ValueError, ZeroDivisionError):  # no such file (neither cgroup), or no limit
        return None


def get_device(prefer: str | None = None) -> torch.device:
    """The device to use, chosen once. `prefer` (or $GAN_DEVICE) may force 'cpu', 'cuda' or 'mps'."""
    global _chosen
    prefer = prefer or os.environ.get("GAN_DEVICE")
    if prefer:
        return _setup(torch.device(prefer))
    if _chosen is None:
        if torch.cuda.is_available():
            _chosen = torch.device("cuda")
        elif torch.backends.mps.is_available():
            _chosen = torch.device("mps")
        else:
            _chosen = torch.device("cpu")
        _setup(_chosen)
    return _chosen


_threads_set = False


def _setup(device: torch.device) -> torch.device:
    global _threads_set
    if device.type == "cpu" and not _threads_set:
        clamp_process_threads(available_cpus())
        _threads_set = True
    return device


def describe(device: torch.device | None = None) -> Message:
    """One short line for badges and logs ("device.*"); str() gives e.g. 'CPU (2 threads)' or 'CUDA: NVIDIA H100'."""
    device = device or get_device()
    if device.type == "cuda":
        return Message("device.cuda", {"name": torch.cuda.get_device_name(device)})
    if device.type == "mps":
        return Message("device.mps")
    return Message("device.cpu", {"threads": torch.get_num_threads()})


def fast_dtype(device: torch.device) -> torch.dtype | None:
    """bfloat16 where the hardware runs it natively (CUDA with bf16; x86 CPUs with AVX512-BF16 or
    AMX; other CPUs where oneDNN has native bf16), else None: then fp32 is the faster choice.

    Emulated bfloat16 is slow. The default digit GAN's step, with oneDNN held to an older ISA
    (ONEDNN_MAX_CPU_ISA) on this project's 2-core CPU: AVX2 (a common laptop) 4.0 steps/s in bf16
    against 41.3 in fp32; AVX-512 without BF16 26.8 against 56.1; with AVX512-BF16 64.5 against 55.5.
    oneDNN's own check (`_is_mkldnn_bf16_supported`) says yes to AVX-512 without BF16, so x86 asks
    for the instructions themselves."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    if device.type != "cpu" or not torch.backends.mkldnn.is_available():
        return None
    try:
        if platform.machine().lower() in ("x86_64", "amd64", "i386", "i686"):
            native = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
        else:
            native = torch.ops.mkldnn._is_mkldnn_bf16_supported()
    except (AttributeError, RuntimeError):
        return None
    return torch.bfloat16 if native else None


def tensors_of(params: list) -> list:
    """An optimizer's parameters in its own order: `params` as tensors, or groups of them (dicts with "params")."""
    return [p for group in params for p in group["params"]] if params and isinstance(params[0], dict) else params


def adam(params, lr: float, betas: tuple[float, float]) -> torch.optim.Adam:
    """Adam with its fused kernel (one call updates every tensor) where PyTorch has one for the
    parameters' device (CPU, CUDA), else the default. Small nets are mostly optimizer overhead on a CPU:
    2-16% more steps per second on 2 cores, the tuned FNN the most (bench/bench_switch.py)."""
    params = list(params)
    fused = all(p.device.type in ("cpu", "cuda") and p.is_floating_point() for p in tensors_of(params))  # checked only at step()
    return torch.optim.Adam(params, lr=lr, betas=betas, fused=fused or None)
