"""save_checkpoint / load_checkpoint / load_param_into_net: round trips, the documented
NumPy format, MindSpore's return values, and clear errors."""
import json
import warnings

import numpy as np
import pytest

import adjoint
import adjoint.nn as nn
from adjoint import Parameter, Tensor


def net():
    return nn.SequentialCell([nn.Conv2d(1, 2, 3, has_bias=True), nn.BatchNorm2d(2), nn.Flatten(), nn.Dense(8, 3)])


def test_round_trip_of_every_parameter(tmp_path):
    a = net()
    a[1].set_train()
    a(Tensor(np.random.randn(4, 1, 2, 2).astype(np.float32)))         # moving statistics change
    path = tmp_path / "model.ckpt"
    assert adjoint.save_checkpoint(a, str(path)) is None
    params = adjoint.load_checkpoint(str(path))
    names = [p.name for p in a.get_parameters()]
    assert list(params) == names == ["0.weight", "0.bias", "1.moving_mean", "1.moving_variance", "1.gamma", "1.beta",
                                     "3.weight", "3.bias"]
    assert all(isinstance(p, Parameter) and p.name == k for k, p in params.items())
    assert params["1.moving_mean"].requires_grad is False and params["0.weight"].requires_grad is True
    b = net()
    assert adjoint.load_param_into_net(b, params) == ([], [])
    for p, q in zip(a.get_parameters(), b.get_parameters()):
        np.testing.assert_array_equal(p.asnumpy(), q.asnumpy())
        assert p.dtype == q.dtype
    a.set_train(False)
    x = Tensor(np.random.randn(2, 1, 2, 2).astype(np.float32))
    np.testing.assert_array_equal(a(x).asnumpy(), b(x).asnumpy())


def test_the_format_is_a_documented_numpy_archive(tmp_path):
    path = tmp_path / "m"
    adjoint.save_checkpoint({"w": Tensor(np.arange(3.0)), "step": np.int32(7)}, str(path),
                            append_dict={"epoch": 2})
    assert (tmp_path / "m.ckpt").exists()                 # the extension is added
    with np.load(tmp_path / "m.ckpt", allow_pickle=False) as data:
        meta = json.loads(str(data["__adjoint_checkpoint__"][()]))
        assert meta["format"] == "adjoint-ckpt" and meta["version"] == 1
        assert [m["name"] for m in meta["parameters"]] == ["w", "step", "epoch"]
        np.testing.assert_array_equal(data[meta["parameters"][0]["key"]], np.arange(3.0))
    loaded = adjoint.load_checkpoint(str(tmp_path / "m.ckpt"))
    assert loaded["w"].dtype == adjoint.float64 and int(loaded["epoch"].asnumpy()) == 2


def test_loading_into_a_net_that_compiled_before_is_seen_by_the_compiled_code(tmp_path):
    a, b = net(), net()
    x = Tensor(np.random.randn(2, 1, 2, 2).astype(np.float32))
    grad = adjoint.grad(b, 0)
    before = grad(x).asnumpy()
    adjoint.save_checkpoint(a, str(tmp_path / "a.ckpt"))
    adjoint.load_checkpoint(str(tmp_path / "a.ckpt"), net=b)
    np.testing.assert_allclose(grad(x).asnumpy(), adjoint.grad(a, 0)(x).asnumpy(), rtol=1e-6)
    assert not np.allclose(before, grad(x).asnumpy())


def test_missing_extra_and_mismatched_parameters(tmp_path):
    a = net()
    params = adjoint.load_checkpoint(_saved(a, tmp_path))
    del params["3.bias"]
    params["extra"] = Parameter(np.zeros(2, np.float32), name="extra")
    b = net()
    with pytest.warns(UserWarning, match="3.bias"):
        assert adjoint.load_param_into_net(b, params) == (["3.bias"], ["extra"])
    with pytest.raises(ValueError, match="3.bias"):
        adjoint.load_param_into_net(b, params, strict_load=True)
    params = adjoint.load_checkpoint(_saved(a, tmp_path))
    params["3.weight"] = Parameter(np.zeros((4, 8), np.float32), name="3.weight")
    before = b[0].weight.asnumpy().copy()
    with pytest.raises(RuntimeError, match=r"3.weight.*shape \(3, 8\).*shape \(4, 8\)"):
        adjoint.load_param_into_net(b, params)
    np.testing.assert_array_equal(b[0].weight.asnumpy(), before)       # nothing was changed
    params = adjoint.load_checkpoint(_saved(a, tmp_path))
    params["0.weight"] = Tensor(params["0.weight"].asnumpy().astype(np.float64))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        adjoint.load_param_into_net(b, params)
    assert b[0].weight.dtype == adjoint.float32                  # cast to the Parameter's dtype, as MindSpore


def test_prefix_filters_and_choice_func(tmp_path):
    path = _saved(net(), tmp_path)
    assert list(adjoint.load_checkpoint(path, specify_prefix="3.")) == ["3.weight", "3.bias"]
    assert "1.gamma" not in adjoint.load_checkpoint(path, filter_prefix=("1.",))
    assert list(adjoint.load_checkpoint(path, choice_func=lambda n: n.endswith("bias"))) == ["0.bias", "3.bias"]
    assert "0.weight" not in adjoint.load_checkpoint(_saved(net(), tmp_path, choice_func=lambda n: "weight" not in n))


def test_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        adjoint.load_checkpoint(str(tmp_path / "nope.ckpt"))
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable adjoint checkpoint|not an adjoint checkpoint"):
        adjoint.load_checkpoint(str(bad))
    other = tmp_path / "other.ckpt"
    with open(other, "wb") as f:
        np.savez(f, x=np.zeros(2))
    with pytest.raises(ValueError, match="not an adjoint checkpoint"):
        adjoint.load_checkpoint(str(other))
    with pytest.raises(TypeError):
        adjoint.save_checkpoint(42, str(tmp_path / "x.ckpt"))
    with pytest.raises(TypeError):
        adjoint.load_param_into_net({}, {})


def test_optimizer_state_is_saved_with_a_train_cell(tmp_path):
    backbone = nn.Dense(3, 2)
    opt = nn.Adam(backbone.trainable_params(), 0.1)
    step = nn.TrainOneStepCell(nn.WithLossCell(backbone, nn.MSELoss()), opt)
    step(Tensor(np.ones((4, 3), np.float32)), Tensor(np.zeros((4, 2), np.float32)))
    adjoint.save_checkpoint(step, str(tmp_path / "train.ckpt"))
    params = adjoint.load_checkpoint(str(tmp_path / "train.ckpt"))
    assert list(params)[:2] == ["weight", "bias"]
    assert int(params["global_step"].asnumpy()[0]) == 1 and "moment1.weight" in params


def _saved(cell, tmp_path, **kw):
    path = str(tmp_path / "saved.ckpt")
    adjoint.save_checkpoint(cell, path, **kw)
    return path
