"""gan_devkit.fail_log: a failure's reason reaches $GAN_FAIL_LOG as it happens, a pass writes nothing."""
import os
import subprocess
import sys


def test_each_failure_is_written_with_its_reason_and_passes_are_not(tmp_path, root):
    (tmp_path / "test_two.py").write_text("def test_fails():\n    assert 1 + 1 == 3\n\ndef test_passes():\n    pass\n")
    log = tmp_path / "fails.log"
    env = {**os.environ, "GAN_FAIL_LOG": str(log), "PYTHONPATH": str(root)}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "gan_devkit.fail_log",
                          str(tmp_path / "test_two.py")], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 1, run.stdout
    text = log.read_text()
    assert text.count("==== ") == 1 and "test_two.py::test_fails (call)" in text and "assert (1 + 1) == 3" in text
    assert "test_passes" not in text
