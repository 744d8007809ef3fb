"""The five programs of the seed tutorial print exactly what MindSpore 2.10 prints."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Verbatim stdout of the same programs run with MindSpore 2.10.0 (CPU, PyNative mode).
MINDSPORE_OUTPUT = {
    "seed_1.py": "[6.]\n",
    "seed_2.py": "wgrad: [100.]\nbgrad: [1.]\n",
    "seed_3.py": "(Tensor(shape=[1], dtype=Float32, value= [ 5.00000000e+00]),)\n",
    "seed_4.py": "[0.6]\n",
    "seed_5.py": "wgrad: [0.]\nbgrad: [0.]\n",
}


@pytest.mark.parametrize("script", sorted(MINDSPORE_OUTPUT))
def test_seed_program_prints_what_mindspore_prints(script):
    run = subprocess.run([sys.executable, os.path.join(ROOT, "examples", script)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout == MINDSPORE_OUTPUT[script]
    assert run.stderr == ""


def _load(script):
    import importlib.util
    import contextlib
    import io
    spec = importlib.util.spec_from_file_location(script[:-3], os.path.join(ROOT, "examples", script))
    module = importlib.util.module_from_spec(spec)
    with contextlib.redirect_stdout(io.StringIO()):
        spec.loader.exec_module(module)
    return module


def test_seed_2_gradients_are_float64_like_their_parameters():
    from adjoint import Tensor, dtype as mstype
    m = _load("seed_2.py")
    fx = m.GradNet(m.Net())(Tensor([100], dtype=mstype.float32))
    assert [g.dtype for g in fx] == [mstype.float64, mstype.float64]
    assert repr(fx[0]) == "Tensor(shape=[1], dtype=Float64, value= [ 1.00000000e+02])"


def test_seed_1_input_gradient_keeps_the_input_dtype():
    from adjoint import Tensor, dtype as mstype
    m = _load("seed_1.py")
    out = m.GradNet(m.Net())(Tensor([100], dtype=mstype.float32))
    assert out.dtype == mstype.float32 and out.shape == (1,)


def test_seed_4_sens_scales_the_gradient():
    from adjoint import Tensor, dtype as mstype
    m = _load("seed_4.py")
    out = m.GradNet(m.Net())(Tensor([6], dtype=mstype.float32))
    assert repr(out) == "Tensor(shape=[1], dtype=Float32, value= [ 6.00000024e-01])"
