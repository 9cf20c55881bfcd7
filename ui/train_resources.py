"""Read-only things every session shares, loaded once per server process (st.cache_resource).

The MNIST tensor (188 MB as float) is handed to each session's Trainer as is: on the CPU
`.to(device)` is a no-op, so twenty students cost one copy, not twenty.
"""
import threading

import streamlit as st

from gan_core.compute import give_back_memory
from gan_core.data import load_mnist, mnist_tensor

from .runtime import compute_runtime


@st.cache_resource(show_spinner=False)
def mnist_train():
    data = mnist_tensor("train")
    give_back_memory()  # the file's decompressed bytes and the conversion's temporaries (measured: idle ~40 MB lower)
    return data


@st.cache_resource(show_spinner=False)
def mnist_train_labels():
    """(60000,) int64 digit labels, for the conditional model."""
    import torch
    return torch.from_numpy(load_mnist("train")[1].astype("int64"))  # a writable copy


@st.cache_resource(show_spinner=False)
def mnist_test():
    return mnist_tensor("test")


@st.cache_resource(show_spinner=False)
def digit_scorer_ready(n: int) -> bool:
    """Load the digit classifier, MNIST-test feature statistics and the meter's yardstick for readings
    of n samples before the first tick needs them. Left to the first reading, the yardstick (4 x n
    real digits through the classifier) held the first Start's training and page 1.6 s on 2 cores."""
    from gan_core.metrics import load_classifier, mnist_test_stats
    load_classifier()
    compute_runtime().run(mnist_test_stats)  # the classifier over 10k test digits, once per server
    real_digits_frechet(n)
    give_back_memory()
    return True


@st.cache_resource(show_spinner=False)
def training_warm_up() -> threading.Thread:
    """One throwaway run of two steps when the server's first visitor opens the training page
    (gan_core.training.warm_up): the process's one-time imports and kernels, paid before the first
    Start. In the background: the page draws meanwhile (on a fresh 2-core server it had held the
    page 2.1 s under its spinner), and a Start made during it trains beside it."""
    from gan_core.training import warm_up
    data, labels, runtime = mnist_train()[:256], mnist_train_labels()[:256], compute_runtime()

    def warm():  # no Streamlit call in here: this thread has no script context
        runtime.run(warm_up, data, labels)
        give_back_memory()
    thread = threading.Thread(target=warm, name="gan-warm-up", daemon=True)
    thread.start()
    return thread


@st.cache_resource(show_spinner=False)
def real_digits_frechet(n: int) -> float:
    """The meter's yardstick: what n real digits read on its Frechet scale (the scale depends on n)."""
    from gan_core.metrics import real_frechet_mean
    return compute_runtime().run(real_frechet_mean, n)


@st.cache_resource(show_spinner=False)
def memorization_baseline() -> float:
    """How far real unseen digits sit from their nearest training image (the yardstick for copies)."""
    from gan_core.memorization import baseline_distance
    return compute_runtime().run(baseline_distance, mnist_test(), mnist_train())
