"""A pytest plugin that writes each failure to $GAN_FAIL_LOG the moment it happens.

On a lent GPU machine a test run can be cut off by its time limit before pytest prints its summary;
this keeps the reasons of the failures seen so far. Use: `python -m pytest -p gan_devkit.fail_log ...`.
"""
import os


def pytest_runtest_logreport(report):
    path = os.environ.get("GAN_FAIL_LOG")
    if path and report.failed:
        with open(path, "a") as f:
            f.write(f"==== {report.nodeid} ({report.when})\n{report.longreprtext[-2500:]}\n")
