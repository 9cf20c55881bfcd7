"""Store the digit classifier's MNIST-test feature statistics and the meter's yardstick beside it.

    python scripts/write_mnist_reference.py

Run after the classifier's weights or the MNIST files change (scripts/train_digit_classifier.py does
it itself); a stale file is ignored by gan_core.metrics, which then computes the figures itself.
"""
import time

from gan_core.metrics import REFERENCE_FILE, write_reference

if __name__ == "__main__":
    t0 = time.perf_counter()
    means = write_reference()
    print(f"wrote {REFERENCE_FILE} in {time.perf_counter() - t0:.1f} s; real digits read {means}")
