"""One run on several processes: torchrun + DistributedDataParallel on the CPU (gloo), 2 processes,
launched as a person would (`python -m torch.distributed.run --standalone --nproc_per_node 2 -m
gan_core train ...`) in a subprocess.

What "the same run" means: DDP averages the ranks' gradients, and every loss here is a mean over
samples, so 2 ranks drawing B/2 samples each take the same step as one process drawing the union of
their samples. `Trainer(..., as_ranks=2)` is that one process: it draws each batch as ranks 0 and 1
would (their shards of the data, their seeds seed + rank, B/2 each) and joins them.

Tolerances, and why: the sums are the same numbers added in another order (each rank sums its half,
gloo adds the halves; one process sums all at once), so each gradient differs by ~1e-7 relative.
Adam divides each gradient element by its own running size, which turns that into larger absolute
differences where a gradient is near zero (a Linear feeding a BatchNorm, whose mean gradient BN
cancels). Measured after these few steps: 4e-8 for the MLP (no BatchNorm), 5e-6 with SyncBatchNorm;
the tolerances below are 20x-50x that, and at most a tenth of one Adam step (lr 1e-3). Runs that are
not the same differ by far more: the MLP on other batches by 1e-2, the DCGAN with per-rank BatchNorm
(no --sync-bn) by 9e-2. The WGAN-GP's tiny image run is chaotic (its test says how) and is judged by
the share of weights that part.
"""
import copy
import dataclasses
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from torch import nn

from gan_core import distributed
from gan_core.config import TrainConfig
from gan_core.data import load_image_folder, mnist_tensor
from gan_core.hub import load_model
from gan_core.messages import GanError
from gan_core.training import Trainer
from gan_devkit.archives import noise_folder

pytestmark = pytest.mark.skipif(not torch.distributed.is_available() or sys.platform != "linux",
                                reason="torch.distributed with gloo, and /proc to find a rank's process")

ENV = {**os.environ, "GAN_DEVICE": "cpu"}
EXACT_ATOL = 1e-6     # no BatchNorm: measured 4e-8
SYNC_BN_ATOL = 1e-4   # SyncBatchNorm (and the penalty's run, whose G has it): measured 5e-6


def torchrun(*args, cwd, check=True, timeout=180):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "gan_core", *map(str, args)]
    r = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout, check=False)
    if check and r.returncode:
        raise AssertionError(f"exit {r.returncode}\n{r.stdout}\n{r.stderr[-4000:]}")
    return r


def summary(r) -> dict:
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 1, r.stdout  # rank 0 alone prints the summary
    return json.loads(lines[0])


def abs_diffs(a: dict, b: dict) -> torch.Tensor:
    """Every element of two state dicts of one network, |a - b| as one flat tensor."""
    assert a.keys() == b.keys()
    return torch.cat([(a[k].float() - b[k].float()).abs().flatten() for k in a])


def max_diff(a: dict, b: dict) -> float:
    return abs_diffs(a, b).max().item()


def parted_share(a: dict, b: dict, atol: float) -> float:
    """The share of one network's elements that two runs left more than atol apart."""
    return (abs_diffs(a, b) > atol).float().mean().item()


def saved_weights(out: pathlib.Path) -> dict:
    state = torch.load(out / "trainer_state.pt", weights_only=True)
    return {"G": state["g_raw"], "G exported": load_model(out).state_dict(),
            "D": load_model(out / "discriminator").state_dict()}


def twin_weights(t: Trainer) -> dict:
    return {"G": t.G.state_dict(), "G exported": t.generator.state_dict(), "D": t.D.state_dict()}


def one_process_twin(cfg: TrainConfig, data: torch.Tensor, steps: int, labels=None) -> Trainer:
    """The run on one process (both ranks' batches), trained on this module's one thread, after the same run on
    two threads is checked to land with it. Adam's first step (beta1 0) moves a weight by lr * g / |g|, so a
    gradient within float noise of zero lands +-lr away and a small game parts from there: measured 2026-12-03,
    3 seeds of 8 of the progressive row parted so between one and two threads, as between ranks. Such a seed
    would fail a comparison with DDP for the sums' order, not for DDP, so it fails here, and says so."""
    twin = Trainer(cfg, data, device="cpu", as_ranks=2, labels=labels)
    twin.step(steps)
    torch.set_num_threads(2)
    try:
        other_sums = Trainer(cfg, data, device="cpu", as_ranks=2, labels=labels)
        other_sums.step(steps)
    finally:
        torch.set_num_threads(1)
    for name, w in twin_weights(other_sums).items():
        assert max_diff(w, twin_weights(twin)[name]) < SYNC_BN_ATOL, f"seed {cfg.seed} is chaotic here: pick another"
    return twin


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """This process's twins run on one thread, as each rank does: on 2 busy cores a 2-thread process
    waits at every op's OpenMP barrier (docs/performance.md), and the sums are split alike."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def mnist():
    return mnist_tensor("train")


@pytest.fixture(scope="module")
def mlp_run(root, tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp") / "mlp"
    r = torchrun("train", "--model", "mlp", "--steps", 5, "--batch-size", 32, "--width", 32, "--seed", 3,
                 "--no-score", "--out", out, cwd=root)
    return out, r


# ------------------------------------------------------------------ 2 processes, one run


def test_two_processes_write_one_loadable_run_that_records_its_world_size(mlp_run, mnist, tmp_path):
    out, r = mlp_run
    s = summary(r)
    assert s["steps"] == 5 and s["world_size"] == 2
    assert "2 processes (torchrun, DDP): global batch 32, 16 per process" in r.stderr
    state = torch.load(out / "trainer_state.pt", weights_only=True)
    assert state["world_size"] == 2 and state["config"]["batch_size"] == 32  # the global batch
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 5
    assert "x 2 processes (torchrun, DistributedDataParallel; world_size 2" in (out / "README.md").read_text()
    G = load_model(out)
    assert type(G).__name__ == "MLPGenerator" and G.generate(4).shape == (4, 1, 28, 28)
    # the plain modules, as a 1-process run saves them: same config.json, same keys, shapes, dtypes
    one = Trainer(TrainConfig.from_dict(state["config"]), mnist[:64], device="cpu")
    one.save(tmp_path / "one")
    for sub in ("", "discriminator"):
        assert (out / sub / "config.json").read_text() == (tmp_path / "one" / sub / "config.json").read_text()
        a, b = load_model(out / sub).state_dict(), load_model(tmp_path / "one" / sub).state_dict()
        assert {k: (v.shape, v.dtype) for k, v in a.items()} == {k: (v.shape, v.dtype) for k, v in b.items()}


def test_two_processes_equal_one_process_with_the_same_global_batch(mlp_run, mnist):
    out, _ = mlp_run
    cfg = TrainConfig.from_dict(torch.load(out / "trainer_state.pt", weights_only=True)["config"])
    twin = Trainer(cfg, mnist, device="cpu", as_ranks=2)
    twin.step(5)
    ddp, ref = saved_weights(out), twin_weights(twin)
    for name in ddp:
        assert max_diff(ddp[name], ref[name]) < EXACT_ATOL, name
    logged = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert np.allclose([m["d_loss"] for m in logged], [m["d_loss"] for m in twin.history], atol=1e-5)
    # ... and the comparison can fail: one process on its own batches lands elsewhere
    plain = Trainer(cfg, mnist, device="cpu")
    plain.step(5)
    assert max_diff(ddp["G"], plain.G.state_dict()) > 100 * EXACT_ATOL


def test_two_nodes_on_one_host_train_the_same_run_as_one_node(mlp_run, root, tmp_path):
    """The docs' two-machine command (c10d rendezvous, one torchrun per node), with both "nodes" on
    localhost: the ranks meet at the endpoint and train exactly the run one torchrun of 2 processes does."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "two-nodes"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc_per_node", "1",
           "--rdzv-backend", "c10d", "--rdzv-endpoint", f"127.0.0.1:{port}", "--rdzv-id", "two-nodes",
           "-m", "gan_core", "train", "--model", "mlp", "--steps", "5", "--batch-size", "32", "--width", "32",
           "--seed", "3", "--no-score", "--out", str(out)]
    nodes = [subprocess.Popen(cmd, cwd=root, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [(n.communicate(timeout=180), n.returncode) for n in nodes]
    assert [rc for _, rc in results] == [0, 0], results
    printed = [json.loads(o) for (o, _), _ in results if o.strip()]
    assert len(printed) == 1 and printed[0]["world_size"] == 2  # one global rank 0 across both nodes
    two_nodes, one_node = saved_weights(out), saved_weights(mlp_run[0])
    for name in one_node:
        assert max_diff(two_nodes[name], one_node[name]) < EXACT_ATOL, name


def test_sync_batchnorm_run_equals_one_process(root, mnist, tmp_path):
    out = tmp_path / "dcgan"
    # The plain design: with the preset's dense layers G's first gradients are near Adam's eps, where its
    # step is lr x sign(g) and float noise picks the sign (measured: 2.4e-4 after 1 step, 2.6e-3 after 4,
    # in those layers only); the engine's sums are what this test checks, and the plain G shows them.
    torchrun("train", "--model", "dcgan", "--steps", 4, "--batch-size", 16, "--width", 8, "--seed", 2, "--sync-bn",
             "--g-hidden", 0, "--d-hidden", 0, "--no-score", "--out", out, cwd=root)
    cfg = TrainConfig.from_dict(torch.load(out / "trainer_state.pt", weights_only=True)["config"])
    assert cfg.bf16 is False  # exact maths: the preset's bf16 is off unless --bf16
    ddp, ref = saved_weights(out), twin_weights(one_process_twin(cfg, mnist, 4))
    for name in ddp:  # BatchNorm's running statistics included
        assert max_diff(ddp[name], ref[name]) < SYNC_BN_ATOL, name
    assert type(load_model(out).project[1]) is nn.BatchNorm1d  # saved as the plain architecture


def test_sync_batchnorm_reaches_a_batch_norm_without_weights():
    """ClassBatchNorm's inner norm has no weights of its own (the per-digit ones are beside it): it must
    be synchronised too, or each rank normalises by its own half batch."""
    from gan_core.models import ClassBatchNorm
    net = nn.Sequential(nn.Linear(4, 6), ClassBatchNorm(6, 10, dims=1), nn.ReLU())
    distributed.sync_batchnorm(net)
    assert isinstance(net[1].norm, distributed.CPUSyncBatchNorm) and net[1].norm.weight is None
    assert isinstance(net[0], nn.Linear) and isinstance(net[2], nn.ReLU)


def test_the_default_conditional_model_under_torchrun_equals_one_process(root, tmp_path):
    """cdcgan as the preset builds it (a norm per digit in G, AC-GAN's and the twin's heads in D), with
    --sync-bn: two ranks train what one process does with both ranks' batches and digits."""
    from gan_core.data import load_mnist
    out = tmp_path / "cdcgan"
    torchrun("train", "--model", "cdcgan", "--steps", 4, "--batch-size", 16, "--width", 8, "--seed", 2, "--sync-bn",
             "--g-hidden", 0, "--d-hidden", 0, "--no-score", "--out", out, cwd=root)  # plain G: see the test above
    cfg = TrainConfig.from_dict(torch.load(out / "trainer_state.pt", weights_only=True)["config"])
    assert cfg.d_twin and cfg.g_class_norm
    labels = torch.tensor(load_mnist("train")[1]).long()
    ddp, ref = saved_weights(out), twin_weights(one_process_twin(cfg, mnist_tensor("train"), 4, labels))
    for name in ddp:
        assert max_diff(ddp[name], ref[name]) < SYNC_BN_ATOL, name


def test_r1_under_torchrun_equals_one_process(root, tmp_path):
    """progressive as its preset builds it (R1 on D, ProGAN's equalized rate in D), its phases one step each
    so that 6 steps pass every resolution and fade-in, R1's own D step on every 2nd: two ranks, each with
    its own half of R1's real batch and DDP's mean of their gradients, train what one process does.

    Every weight to 1e-4, on a seed whose game is not chaotic at this size (one_process_twin): of seeds 0-7,
    3 parted wholesale (59-72% of G's weights), between one and two threads as between the ranks."""
    out = tmp_path / "progressive"
    torchrun("train", "--model", "progressive", "--steps", 6, "--batch-size", 16, "--width", 8, "--seed", 0,
             "--phase-steps", 1, "--r1-every", 2, "--sync-bn", "--no-score", "--out", out, cwd=root)
    cfg = TrainConfig.from_dict(torch.load(out / "trainer_state.pt", weights_only=True)["config"])
    assert cfg.uses_r1 and cfg.r1_every == 2
    ddp, ref = saved_weights(out), twin_weights(one_process_twin(cfg, mnist_tensor("train"), 6))
    for name in ddp:
        assert max_diff(ddp[name], ref[name]) < SYNC_BN_ATOL, name
    plain = Trainer(dataclasses.replace(cfg, r1=0.0), mnist_tensor("train"), device="cpu", as_ranks=2)
    plain.step(6)  # ... and R1's steps are in it: without them D lands elsewhere
    assert max_diff(ddp["D"], plain.D.state_dict()) > 100 * SYNC_BN_ATOL


def test_bf16_with_synchronised_batchnorm_trains(root, tmp_path):
    """--bf16 --sync-bn: the global batch statistics are gathered in fp32 (the running ones are fp32 buffers;
    a bf16 mean could not be blended into them) and the run ends with finite fp32 running statistics."""
    out = tmp_path / "bf16"
    torchrun("train", "--model", "dcgan", "--steps", 2, "--batch-size", 16, "--width", 8, "--bf16", "--sync-bn",
             "--no-score", "--out", out, cwd=root)
    bn = load_model(out).project[1]
    assert bn.running_mean.dtype == torch.float32 and torch.isfinite(bn.running_var).all() and bn.running_mean.abs().sum() > 0


def test_gradient_penalty_under_ddp_on_an_image_folder(root, tmp_path):
    """The critic's gradient goes through the penalty's double backward inside DDP (the preset's rates).

    Judged by the share of weights that part, not the largest part: at these sizes (64 px, width 4, 4 images)
    the run is chaotic. Adam's first step moves each weight by lr * g / |g|, so a weight whose gradient sits
    within float noise of zero can land +-lr from its twin; measured (2026-12-02): a twin on one
    thread and one on two part as much as the ranks and a twin do (up to 1e-2 after two iterations). After one
    iteration (2 critic updates, the first with the penalty, then G's), over 22 seeds: at most 0.08% of G's
    weights and 0.01% of D's part by more than 1e-4 with the penalty weighted 5, none (largest part 3e-4) with
    the preset's 2. Without DDP's gradient averaging (each rank its own half), 26-29% of G's and 85-90% of D's do."""
    noise_folder(tmp_path / "faces" / "person", 10)
    out = tmp_path / "wgan"
    r = torchrun("train", "--model", "wgan-gp", "--data", tmp_path / "faces", "--img-size", 64, "--steps", 1,
                 "--batch-size", 4, "--width", 4, "--n-critic", 2, "--sync-bn", "--no-score", "--out", out, cwd=root)
    assert "loaded 5 images" in r.stderr  # each rank decodes its half of the folder
    assert summary(r)["world_size"] == 2
    cfg = TrainConfig.from_dict(torch.load(out / "trainer_state.pt", weights_only=True)["config"])
    assert cfg.gp_weight > 0 and cfg.lr_g > cfg.lr_d  # the preset's penalty and rates, not a calmer pair
    twin = Trainer(cfg, load_image_folder(tmp_path / "faces").tensor, device="cpu", as_ranks=2)
    twin.step(1)
    ddp, ref = saved_weights(out), twin_weights(twin)
    for name in ddp:
        assert parted_share(ddp[name], ref[name], SYNC_BN_ATOL) < 0.01, name


def test_a_two_process_checkpoint_resumes_on_one_process(mlp_run, root, mnist, tmp_path):
    out, _ = mlp_run
    run = tmp_path / "run"
    shutil.copytree(out, run)
    before = (run / "metrics.jsonl").read_text().splitlines()
    resumed = Trainer.resume(run, mnist, device="cpu")
    assert resumed.saved_world == 2 and resumed.world == 1 and resumed.local_batch == 32 and resumed.iteration == 5
    assert max_diff(resumed.G.state_dict(), saved_weights(out)["G"]) == 0
    r = subprocess.run([sys.executable, "-m", "gan_core", "train", "--steps", "8", "--resume", "--no-score", "--out", str(run)],
                       cwd=root, env=ENV, capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    assert "resuming" in r.stderr and "(saved at world size 2, now 1)" in r.stderr
    state = torch.load(run / "trainer_state.pt", weights_only=True)
    assert state["iteration"] == 8 and state["world_size"] == 1
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 8 and lines[:5] == before


def _children(pid: int) -> list[int]:
    kids = []
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        kids += [int(c) for c in (task / "children").read_text().split()]
    return kids


def _rank(pid: int) -> int | None:
    env = pathlib.Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return next((int(e[5:]) for e in env if e.startswith(b"RANK=")), None)


def test_a_killed_process_ends_the_job_with_a_clear_message(root, tmp_path):
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "gan_core",
           "train", "--model", "mlp", "--steps", "1000000", "--batch-size", "16", "--width", "16", "--no-score",
           "--save-every", "0.5", "--out", str(out)]
    p = subprocess.Popen(cmd, cwd=root, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while not (out / "trainer_state.pt").exists():  # rank 0's first checkpoint: both ranks are training
            assert p.poll() is None and time.monotonic() < deadline, p.stdout.read() if p.poll() is not None else "slow"
            time.sleep(0.2)
        workers = {_rank(pid): pid for pid in _children(p.pid)}
        killed = time.monotonic()
        os.kill(workers[1], signal.SIGKILL)
        output, _ = p.communicate(timeout=60)
        took = time.monotonic() - killed
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    assert p.returncode != 0 and took < 60, (p.returncode, took)
    assert ("process 0 of 2 lost the others" in output or "process 0 of 2 stopped by torchrun" in output), output[-3000:]
    assert "[rank0]: Traceback" not in output  # a sentence, not a crash
    assert (out / "trainer_state.pt").exists()  # the last checkpoint is kept, to --resume


# ------------------------------------------------------------------ the plumbing, in this process


def test_a_ranks_own_error_is_not_reported_as_a_lost_peer():
    """A collective that failed names the others; this rank's own error (here the one DDP raised when progressive
    growing left weights out, before distributed.wrap knew) names this rank, so nobody hunts a dead machine."""
    own = distributed.lost(RuntimeError("Expected to have finished reduction in the prior iteration before starting "
                                        "a new one. This error indicates that your module has parameters that were "
                                        "not used in producing loss."), 3)
    assert own.code == "dist.failed" and "process 0 of 1 failed at step 3 in its own work" in str(own)
    assert "Expected to have finished reduction" in str(own)
    assert distributed.lost(torch.OutOfMemoryError("CUDA out of memory"), 1).code == "dist.failed"
    for peer in (RuntimeError("[/pytorch/third_party/gloo/gloo/transport/tcp/unbound_buffer.cc:78] Timed out waiting "
                              "10000ms for recv operation to complete"),
                 RuntimeError("[../third_party/gloo/gloo/transport/tcp/pair.cc:534] Connection closed by peer "
                              "[127.0.0.1]:29500"),
                 torch.distributed.DistBackendError("NCCL communicator was aborted on rank 1")):
        lost = distributed.lost(peer, 3)
        assert lost.code == "dist.lost" and "lost the others at step 3" in str(lost), peer


def test_shards_deal_the_index_space_like_cards():
    items = list(range(10))
    parts = [distributed.shard(items, r, 3) for r in range(3)]
    assert parts == [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]
    t = torch.arange(10).view(10, 1)
    assert torch.equal(torch.cat([distributed.shard(t, r, 2) for r in range(2)]).sort(0).values, t)
    assert distributed.shard(t, 1, 2).is_contiguous()
    assert not distributed.launched() or os.environ.get("RANK")  # the suite itself runs outside torchrun
    assert distributed.world_size() == 1 and distributed.rank() == 0 and not distributed.active()


def test_the_global_batch_must_divide_among_the_processes(mnist):
    with pytest.raises(GanError, match="choose a multiple of 4") as e:
        Trainer(TrainConfig.preset("mlp", batch_size=6, width=8), mnist[:64], device="cpu", as_ranks=4)
    assert e.value.code == "train.batch_not_divisible"


def test_cpu_sync_batchnorm_is_batchnorm_over_all_ranks(tmp_path):
    """In a 1-process gloo group: CPUSyncBatchNorm's forward, backward and running statistics are BatchNorm's."""
    torch.manual_seed(0)
    plain = nn.Sequential(nn.Linear(5, 6), nn.BatchNorm1d(6))
    synced = distributed.sync_batchnorm(copy.deepcopy(plain))
    assert type(synced[1]) is distributed.CPUSyncBatchNorm
    assert synced.state_dict().keys() == plain.state_dict().keys()
    bn2d = distributed.sync_batchnorm(nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4)))
    weight = bn2d[1].weight
    assert type(bn2d[1]) is distributed.CPUSyncBatchNorm and bn2d[1].weight is weight  # the same tensors
    x = torch.randn(8, 5)
    torch.distributed.init_process_group("gloo", init_method=f"file://{tmp_path}/pg", rank=0, world_size=1)
    try:
        for net in (plain, synced):
            net.zero_grad()
            net(x).pow(3).sum().backward()
        assert torch.allclose(plain(x), synced(x), atol=1e-6)
        for (k, a), b in zip(plain.state_dict().items(), synced.state_dict().values()):
            assert torch.allclose(a.float(), b.float(), atol=1e-6), k
        for a, b in zip(plain.parameters(), synced.parameters()):
            assert torch.allclose(a.grad, b.grad, atol=1e-5)
    finally:
        torch.distributed.destroy_process_group()
    synced.eval()
    assert torch.allclose(plain.eval()(x), synced(x), atol=1e-6)  # eval mode: the running statistics
