"""The examples beyond the seed tutorial run and do what they say."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_train_mlp_learns():
    run = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "train_mlp.py")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    losses = [float(v) for v in re.findall(r"loss (\d+\.\d+)", run.stdout)]
    accuracies = [float(v) for v in re.findall(r"accuracy (\d+\.\d+)", run.stdout)]
    assert len(losses) == 5 and losses[-1] < losses[0] / 5
    assert accuracies[-1] >= 0.95
    assert "['net.0.weight', 'net.0.bias', 'net.1.weight', 'net.1.bias']" in run.stdout
