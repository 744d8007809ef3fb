"""Checkpoints: ``save_checkpoint``, ``load_checkpoint``, ``load_param_into_net``, with
MindSpore's names and signatures.

The file format is adjoint's own, documented here and built on NumPy only (MindSpore's .ckpt
is a protobuf file; adjoint neither reads nor writes that):

* a ``.ckpt`` file is a ZIP archive written by ``numpy.savez`` (uncompressed), so
  ``np.load(path)`` opens it;
* ``__adjoint_checkpoint__`` holds a JSON document (a 0-d unicode array): ``{"format":
  "adjoint-ckpt", "version": 1, "parameters": [{"name": ..., "key": "p0", "requires_grad":
  true}, ...]}``, in the order the parameters were saved;
* each parameter's value is the array under its ``key`` (``p0``, ``p1``...; names are not
  used as keys, so any name round-trips), with its own dtype and shape;
* entries of ``append_dict`` are saved the same way (numbers and strings as 0-d arrays).

Files are read with ``allow_pickle=False``: loading a checkpoint never runs code.
"""
import json
import os
import warnings

import numpy as np

from .tensor import Parameter, Tensor

__all__ = ["save_checkpoint", "load_checkpoint", "load_param_into_net"]

_META = "__adjoint_checkpoint__"
_FORMAT = "adjoint-ckpt"
_VERSION = 1


def _items(save_obj):
    """(name, array, requires_grad) for what save_checkpoint was given."""
    from .nn.cell import Cell
    if isinstance(save_obj, Cell):
        seen, out = set(), []
        for _, p in save_obj.parameters_and_names():
            if id(p) not in seen:
                seen.add(id(p))
                out.append((p.name, p._data, p.requires_grad))
        return out
    if isinstance(save_obj, dict):
        return [(str(k), _array(v), getattr(v, "requires_grad", True)) for k, v in save_obj.items()]
    if isinstance(save_obj, (list, tuple)):
        out = []
        for entry in save_obj:
            if isinstance(entry, Parameter):
                out.append((entry.name, entry._data, entry.requires_grad))
            elif isinstance(entry, dict) and "name" in entry and "data" in entry:
                out.append((str(entry["name"]), _array(entry["data"]), True))
            else:
                raise TypeError("save_checkpoint: a list must hold Parameters or {'name': ..., 'data': ...} "
                                "dicts, got %r" % (entry,))
        return out
    raise TypeError("save_checkpoint: 'save_obj' must be a Cell, a dict or a list, but got %s."
                    % type(save_obj).__name__)


def _array(value):
    if isinstance(value, Tensor):
        return value._data
    return np.asarray(value)


def save_checkpoint(save_obj, ckpt_file_name, integrated_save=True, async_save=False, append_dict=None,
                    enc_key=None, enc_mode="AES-GCM", choice_func=None, **kwargs):
    """Save every Parameter of ``save_obj`` (a Cell: its ``parameters_and_names()``, trainable
    or not, e.g. BatchNorm's moving statistics and an optimizer's state; or a dict
    ``{name: Parameter/Tensor/array}``, or a list of ``{'name', 'data'}`` dicts) to
    ``ckpt_file_name`` ('.ckpt' is appended when missing). ``choice_func(name)`` may keep only
    some names; ``append_dict`` adds extra entries (e.g. ``{'epoch': 10}``)."""
    if enc_key is not None:
        raise ValueError("save_checkpoint: encryption (enc_key) is not supported by adjoint's format")
    if not isinstance(ckpt_file_name, (str, os.PathLike)):
        raise TypeError("save_checkpoint: 'ckpt_file_name' must be a str, but got %s."
                        % type(ckpt_file_name).__name__)
    path = os.fspath(ckpt_file_name)
    if not path.endswith(".ckpt"):
        path += ".ckpt"
    items = _items(save_obj)
    if choice_func is not None:
        items = [it for it in items if choice_func(it[0])]
    for key, value in (append_dict or {}).items():
        if not isinstance(value, (int, float, bool, str, np.ndarray, np.generic, Tensor)):
            raise TypeError("save_checkpoint: the values of 'append_dict' must be numbers, strings, arrays or "
                            "Tensors, but '%s' is %s." % (key, type(value).__name__))
        items.append((str(key), _array(value), False))
    names = [name for name, _, _ in items]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ValueError("save_checkpoint: the names %s appear more than once" % dup)
    arrays, meta = {}, []
    for k, (name, value, requires_grad) in enumerate(items):
        key = "p%d" % k
        arrays[key] = np.asarray(value, order="C")      # (ascontiguousarray would make 0-d arrays 1-d)
        meta.append({"name": name, "key": key, "requires_grad": bool(requires_grad)})
    arrays[_META] = np.array(json.dumps({"format": _FORMAT, "version": _VERSION, "parameters": meta}))
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)        # a crash mid-write never leaves a truncated checkpoint
    return None


def load_checkpoint(ckpt_file_name, net=None, strict_load=False, filter_prefix=None, dec_key=None,
                    dec_mode="AES-GCM", specify_prefix=None, choice_func=None, **kwargs):
    """Read a checkpoint written by ``save_checkpoint``: ``{name: Parameter}`` in the saved
    order. With ``net``, also load it into the net (``load_param_into_net``). ``filter_prefix``
    drops names starting with it (a str or tuple), ``specify_prefix`` keeps only those,
    ``choice_func(name)`` keeps the names it returns True for."""
    if dec_key is not None:
        raise ValueError("load_checkpoint: decryption (dec_key) is not supported by adjoint's format")
    path = os.fspath(ckpt_file_name)
    if not os.path.isfile(path):
        raise ValueError("For 'load_checkpoint', the checkpoint file: %s does not exist, please check whether "
                         "the 'ckpt_file_name' is correct." % path)
    try:
        with np.load(path, allow_pickle=False) as data:
            if _META not in data.files:
                raise ValueError("no %s entry" % _META)
            meta = json.loads(str(data[_META][()]))
            if meta.get("format") != _FORMAT:
                raise ValueError("format %r" % meta.get("format"))
            if meta.get("version", 0) > _VERSION:
                raise ValueError("version %s is newer than this adjoint reads (%d)" % (meta.get("version"), _VERSION))
            entries = [(m["name"], data[m["key"]], m.get("requires_grad", True)) for m in meta["parameters"]]
    except ValueError as exc:
        raise ValueError("load_checkpoint: %s is not an adjoint checkpoint (%s). adjoint reads the files "
                         "adjoint.save_checkpoint writes (NumPy .npz archives with a %s entry), not "
                         "MindSpore's protobuf .ckpt files." % (path, exc, _META)) from None
    except (OSError, KeyError, EOFError) as exc:
        raise ValueError("load_checkpoint: %s is not a readable adjoint checkpoint (%s: %s)"
                         % (path, type(exc).__name__, exc)) from None

    def keep(name):
        if filter_prefix is not None and name.startswith(_prefixes(filter_prefix)):
            return False
        if specify_prefix is not None and not name.startswith(_prefixes(specify_prefix)):
            return False
        return choice_func is None or choice_func(name)

    params = {}
    for name, value, requires_grad in entries:
        if keep(name):
            params[name] = Parameter(np.array(value), name=name, requires_grad=requires_grad)
    if net is not None:
        load_param_into_net(net, params, strict_load=strict_load)
    return params


def _prefixes(prefix):
    return (prefix,) if isinstance(prefix, str) else tuple(prefix)


def load_param_into_net(net, parameter_dict, strict_load=False, remove_redundancy=False):
    """Copy the values of ``parameter_dict`` (``{name: Parameter/Tensor/array}``, e.g. from
    ``load_checkpoint``) into the Parameters of ``net`` with the same names, in place (cast to
    each Parameter's dtype). Returns ``(param_not_load, ckpt_not_load)``: the net's Parameters
    the dict has no value for, and the dict's names the net has no Parameter for, as MindSpore.
    A shape mismatch raises RuntimeError before anything is changed; a Parameter missing from
    the dict is a warning (listed in param_not_load), or a ValueError with ``strict_load=True``."""
    from .nn.cell import Cell
    if not isinstance(net, Cell):
        raise TypeError("For 'load_param_into_net', the argument 'net' should be a Cell, but got %s."
                        % type(net).__name__)
    if not isinstance(parameter_dict, dict):
        raise TypeError("For 'load_param_into_net', the argument 'parameter_dict' should be a dict, but got %s."
                        % type(parameter_dict).__name__)
    own, seen = [], set()
    for _, p in net.parameters_and_names():
        if id(p) not in seen:
            seen.add(id(p))
            own.append(p)
    updates, param_not_load = [], []
    for p in own:
        if p.name not in parameter_dict:
            param_not_load.append(p.name)
            continue
        value = _array(parameter_dict[p.name])
        if value.shape != p._data.shape:
            raise RuntimeError("For 'load_param_into_net', %s in the argument 'net' should have the same shape as "
                               "%s in the argument 'parameter_dict'. But got its shape %s in the argument 'net' "
                               "and shape %s in the argument 'parameter_dict'. May you need to check whether the "
                               "checkpoint you loaded is correct or the batch size and so on in the 'net' and "
                               "'parameter_dict' are same." % (p.name, p.name, tuple(p._data.shape),
                                                              tuple(value.shape)))
        updates.append((p, value))
    names = {p.name for p in own}
    ckpt_not_load = [name for name in parameter_dict if name not in names]
    if param_not_load:
        message = ("load_param_into_net: %d Parameter(s) of the net have no value in the checkpoint and were not "
                   "loaded: %s" % (len(param_not_load), ", ".join(param_not_load)))
        if strict_load:
            raise ValueError(message)
        warnings.warn(message, stacklevel=2)
    for p, value in updates:
        target = p._data
        if target.flags.writeable:
            np.copyto(target, value, casting="unsafe")     # in place: compiled code keeps reading it
        else:
            p.set_data(np.array(value, dtype=target.dtype))
    return param_not_load, ckpt_not_load
