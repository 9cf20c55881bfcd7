import pytest
import torch

from gan_core import device


def test_available_cpus_respects_affinity():
    import os
    n = device.available_cpus()
    assert 1 <= n <= len(os.sched_getaffinity(0))


def fake_cgroup(monkeypatch, tmp_path, files: dict):
    """/sys/fs/cgroup/<name> read from tmp_path for each name in `files` (its text), absent otherwise."""
    real_path = device.Path
    for name, text in files.items():
        (tmp_path / name.replace("/", "_")).write_text(text)

    def fake_path(p):
        if not str(p).startswith("/sys/fs/cgroup/"):
            return real_path(p)
        name = str(p).removeprefix("/sys/fs/cgroup/")
        return tmp_path / (name.replace("/", "_") if name in files else "absent")
    monkeypatch.setattr(device, "Path", fake_path)


def test_available_cpus_is_the_smaller_of_the_affinity_mask_and_the_quota_rounded_down(monkeypatch, tmp_path):
    monkeypatch.setattr(device.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    for quota, cpus in (("max 100000", 4), ("250000 100000", 2), ("600000 100000", 4), ("50000 100000", 1)):
        fake_cgroup(monkeypatch, tmp_path, {"cpu.max": quota})
        assert device.available_cpus() == cpus, quota
    fake_cgroup(monkeypatch, tmp_path, {})  # no cgroup files at all
    assert device.available_cpus() == 4
    monkeypatch.delattr(device.os, "sched_getaffinity")  # macOS, Windows: the CPU count
    monkeypatch.setattr(device.os, "cpu_count", lambda: 3)
    assert device.available_cpus() == 3
    monkeypatch.setattr(device.os, "cpu_count", lambda: None)  # unknown: one
    assert device.available_cpus() == 1


def test_cgroup_quota_parsing(monkeypatch, tmp_path):
    fake_cgroup(monkeypatch, tmp_path, {"cpu.max": "150000 100000\n"})  # 1.5 CPUs: floored to 1
    assert device._cgroup_quota() == 1.5
    assert device.available_cpus() == 1
    fake_cgroup(monkeypatch, tmp_path, {"cpu.max": "max 100000\n"})
    assert device._cgroup_quota() is None
    v1 = {"cpu/cpu.cfs_quota_us": "300000\n", "cpu/cpu.cfs_period_us": "100000\n"}  # cgroup v1: no cpu.max
    fake_cgroup(monkeypatch, tmp_path, v1)
    assert device._cgroup_quota() == 3.0
    fake_cgroup(monkeypatch, tmp_path, {**v1, "cpu/cpu.cfs_quota_us": "1"})  # a millionth of a CPU: still a quota
    assert device._cgroup_quota() == 1e-5 and device.available_cpus() == 1
    for quota in ("-1", "0"):  # v1 says "no limit" with -1
        fake_cgroup(monkeypatch, tmp_path, {**v1, "cpu/cpu.cfs_quota_us": quota})
        assert device._cgroup_quota() is None, quota
    fake_cgroup(monkeypatch, tmp_path, {"cpu/cpu.cfs_quota_us": "300000"})  # no period: no quota
    assert device._cgroup_quota() is None
    for broken in ({"cpu.max": "lots 100000"}, {"cpu.max": ""}, {**v1, "cpu/cpu.cfs_period_us": "often"},
                   {"cpu.max": "100000 0"}, {**v1, "cpu/cpu.cfs_period_us": "0"}):  # a period of 0: no division
        fake_cgroup(monkeypatch, tmp_path, broken)
        assert device._cgroup_quota() is None, broken


@pytest.fixture
def clamps(monkeypatch) -> list:
    """A process whose device is not chosen yet, its thread clamps recorded instead of made: a clamp raising the
    threads in the test process would hang a harness that forks it, such as mutmut's (the clamp itself is tested
    with the thread count in test_clamp_keeps_fewer_threads...)."""
    calls = []
    monkeypatch.setattr(device, "clamp_process_threads", calls.append)
    monkeypatch.setattr(device, "_threads_set", False)
    monkeypatch.setattr(device, "_chosen", None)
    monkeypatch.delenv("GAN_DEVICE", raising=False)
    return calls


def test_get_device_is_cpu_here_and_clamps_threads_once(monkeypatch, clamps):
    """get_device sets the CPU's threads once per process."""
    calls = clamps
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    d = device.get_device()
    assert d == torch.device("cpu") and calls == [device.available_cpus()]
    assert device.get_device() is d and device.get_device("cpu").type == "cpu"
    assert calls == [device.available_cpus()], "set once: a later call keeps the count"
    line = device.describe(d)
    assert line.code == "device.cpu" and line.params == {"threads": torch.get_num_threads()}
    assert str(line) == f"CPU ({torch.get_num_threads()} threads)"
    assert device.describe().params == line.params  # no device: the process's own


def test_get_device_takes_cuda_then_mps_and_obeys_gan_device(monkeypatch, clamps):
    calls = clamps
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    for cuda, expected in ((True, "cuda"), (False, "mps")):
        monkeypatch.setattr(device, "_chosen", None)
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
        assert device.get_device().type == expected
    assert calls == [], "threads are the CPU's business"
    monkeypatch.setattr(device, "_chosen", None)
    monkeypatch.setenv("GAN_DEVICE", "cpu")  # forced, whatever else there is
    assert device.get_device().type == "cpu" and device._chosen is None and calls == [device.available_cpus()]
    assert device.get_device("meta").type == "meta"  # an argument beats the variable


def test_describe_names_the_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda d: {torch.device("cuda:1"): "NVIDIA H100"}[d])
    line = device.describe(torch.device("cuda:1"))
    assert line.code == "device.cuda" and line.params == {"name": "NVIDIA H100"}
    assert device.describe(torch.device("mps")).code == "device.mps"


def _cpu(monkeypatch, machine, avx512_bf16=False, amx=False, mkldnn=True):
    monkeypatch.setattr(device.platform, "machine", lambda: machine)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: mkldnn)


@pytest.mark.parametrize("machine", ["x86_64", "AMD64", "i386", "i686"])  # Linux, Windows, 32-bit names
def test_fast_dtype_on_x86_needs_the_bf16_instructions_not_just_avx512(monkeypatch, machine):
    _cpu(monkeypatch, machine)  # AVX-512 without BF16: oneDNN would emulate it, 2x slower than fp32
    assert device.fast_dtype(torch.device("cpu")) is None
    _cpu(monkeypatch, machine, avx512_bf16=True)
    assert device.fast_dtype(torch.device("cpu")) is torch.bfloat16
    _cpu(monkeypatch, machine, amx=True)
    assert device.fast_dtype(torch.device("cpu")) is torch.bfloat16
    assert device.fast_dtype(torch.device("meta")) is None  # only the CPU and CUDA
    monkeypatch.setattr(torch.backends.mkldnn, "is_available", lambda: False)
    assert device.fast_dtype(torch.device("cpu")) is None  # no oneDNN: no fast bf16


def test_fast_dtype_on_cuda_asks_the_gpu(monkeypatch):
    for bf16, expected in ((True, torch.bfloat16), (False, None)):
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: bf16)
        assert device.fast_dtype(torch.device("cuda")) is expected


def test_fast_dtype_elsewhere_asks_onednn(monkeypatch):
    _cpu(monkeypatch, "aarch64", mkldnn=True)
    assert device.fast_dtype(torch.device("cpu")) is torch.bfloat16
    _cpu(monkeypatch, "aarch64", mkldnn=False)
    assert device.fast_dtype(torch.device("cpu")) is None
    assert device.fast_dtype(torch.device("meta")) is None


def test_clamp_keeps_fewer_threads_where_omp_num_threads_asks_and_never_more_than_the_cpus(monkeypatch):
    from gan_core.compute import clamp_process_threads
    old = torch.get_num_threads()
    try:
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
        clamp_process_threads(2)
        assert torch.get_num_threads() == 1
        monkeypatch.setenv("OMP_NUM_THREADS", "8")
        clamp_process_threads(2)
        assert torch.get_num_threads() == 2
        monkeypatch.setenv("OMP_NUM_THREADS", "junk")
        clamp_process_threads(1)
        assert torch.get_num_threads() == 1
        monkeypatch.delenv("OMP_NUM_THREADS")
        clamp_process_threads(2)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(old)


def _steps(opt, params, n=3):
    for i in range(n):
        opt.zero_grad()
        sum(((p - i) ** 2).sum() for p in params).backward()
        opt.step()


def test_adam_takes_the_fused_kernel_on_the_cpu_and_updates_as_adam_does():
    torch.manual_seed(0)
    start = [torch.randn(5, 3), torch.randn(3)]
    mine = [p.clone().requires_grad_() for p in start]
    ref = [p.clone().requires_grad_() for p in start]
    opt = device.adam(mine, 1e-2, (0.0, 0.99))
    assert opt.defaults["fused"] is True
    _steps(opt, mine)
    _steps(torch.optim.Adam(ref, lr=1e-2, betas=(0.0, 0.99)), ref)  # the same lr and betas, unfused
    for a, b in zip(mine, ref):
        torch.testing.assert_close(a, b)
    assert not torch.equal(mine[0], start[0])


class Param:
    """Stands for a parameter on `where` (a device this machine may not have): all the fused check reads."""
    def __init__(self, where, floating=True):
        self.device, self.floating = torch.device(where), floating

    def is_floating_point(self):
        return self.floating


def test_adam_is_fused_on_cuda_and_cpu_floats_only(monkeypatch):
    monkeypatch.setattr(torch.optim, "Adam", lambda params, **kw: kw["fused"])
    assert device.adam([Param("cuda"), Param("cpu")], 1e-3, (0.5, 0.9)) is True
    assert device.adam([{"params": [Param("cuda")]}, {"params": [Param("mps")]}], 1e-3, (0.5, 0.9)) is None
    assert device.adam([Param("cpu", floating=False)], 1e-3, (0.5, 0.9)) is None


def test_adam_falls_back_where_there_is_no_fused_kernel():
    p = torch.zeros(3, device="meta", requires_grad=True)  # no fused kernel for the meta device
    opt = device.adam([p], 1e-3, (0.5, 0.999))
    assert not opt.defaults["fused"]
    assert opt.defaults["lr"] == 1e-3 and opt.defaults["betas"] == (0.5, 0.999)
