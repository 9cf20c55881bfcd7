import torch

from gan_core import device


def test_available_cpus_respects_affinity():
    import os
    n = device.available_cpus()
    assert 1 <= n <= len(os.sched_getaffinity(0))


def test_get_device_is_cpu_here_and_clamps_threads(monkeypatch):
    monkeypatch.setenv("GAN_DEVICE", "cpu")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(device, "_threads_set", False)
    d = device.get_device()
    assert d.type == "cpu"
    assert torch.get_num_threads() == device.available_cpus()
    line = device.describe(d)
    assert line.code == "device.cpu" and line.params == {"threads": torch.get_num_threads()}
    assert str(line) == f"CPU ({torch.get_num_threads()} threads)"


def test_cgroup_quota_parsing(tmp_path, monkeypatch):
    # cpu.max "150000 100000" means 1.5 CPUs: floor to 1
    f = tmp_path / "cpu.max"
    f.write_text("150000 100000\n")
    real_path = device.Path

    def fake_path(p):
        return f if p == "/sys/fs/cgroup/cpu.max" else real_path(p)
    monkeypatch.setattr(device, "Path", fake_path)
    assert device._cgroup_quota() == 1.5
    assert device.available_cpus() == 1
    f.write_text("max 100000\n")
    assert device._cgroup_quota() is None


def _cpu(monkeypatch, machine, avx512_bf16=False, amx=False, mkldnn=True):
    monkeypatch.setattr(device.platform, "machine", lambda: machine)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: mkldnn)


def test_fast_dtype_on_x86_needs_the_bf16_instructions_not_just_avx512(monkeypatch):
    _cpu(monkeypatch, "x86_64")  # AVX-512 without BF16: oneDNN would emulate it, 2x slower than fp32
    assert device.fast_dtype(torch.device("cpu")) is None
    _cpu(monkeypatch, "x86_64", avx512_bf16=True)
    assert device.fast_dtype(torch.device("cpu")) is torch.bfloat16
    _cpu(monkeypatch, "x86_64", amx=True)
    assert device.fast_dtype(torch.device("cpu")) is torch.bfloat16


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


def test_adam_falls_back_where_there_is_no_fused_kernel():
    p = torch.zeros(3, device="meta", requires_grad=True)  # no fused kernel for the meta device
    opt = device.adam([p], 1e-3, (0.5, 0.999))
    assert not opt.defaults["fused"]
    assert opt.defaults["lr"] == 1e-3 and opt.defaults["betas"] == (0.5, 0.999)
