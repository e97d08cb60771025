"""PyTorch ``.pt``/``.pth`` files: a whole saved ``nn.Sequential``, or the state dict of one.

Invariant: the network returned is exactly the function the model computes on one input
vector: tensor entries (float16, bfloat16, float32, float64) are converted exactly, a Linear
without bias gets a zero bias, and consecutive Linear layers with no ReLU between them are
composed exactly; Dropout is the identity (a model is read in eval mode).  Modules other than
Linear, ReLU, Flatten, Identity, Dropout and (nested) Sequential are refused by name, as are their
subclasses and custom ``nn.Module`` classes (their ``forward`` may compute anything), BatchNorm
(it divides by a square root, not an exact rational map) and TorchScript archives, each with a
message saying what to do instead (export the model to ONNX, or save an ``nn.Sequential``).

A state dict names only the modules with parameters, so it is read as the usual
``Linear, ReLU, Linear, ..., Linear``: between ``k.weight`` and ``(k+2).weight`` the
parameter-free module ``k+1`` is taken to be a ReLU; Linear layers with consecutive indices are
composed (nothing sits between them).  Larger gaps, or a first Linear that is not module 0, are
refused as ambiguous; nothing after the last Linear is visible in a state dict.  These
assumptions are returned as notes (the command line prints them on stderr).

A state dict is read with ``torch.load(weights_only=True)``, which runs no code from the file.  A
whole saved model is a full pickle: unpickling it runs code stored in the file, so it is read only
with ``trust_pickle=True`` (``--trust-pickle`` on the command line).  :func:`save` writes a state
dict, which reads back without that.  ``torch`` is imported only when a file is read or written
(``pip install 'exactrelu[torch]'``).
"""

from __future__ import annotations

import io
import pickle
import re
import zipfile
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from types import ModuleType
from typing import Any, Optional

from ..errors import InputError, NetworkFormatError
from ..network import ReluNetwork
from .layers import Step, exact_array, float64_error, float64_layers, network_from_steps

__all__ = ["load", "save", "encode", "network_from_module", "SUPPORTED_MODULES"]

SUPPORTED_MODULES = ("Linear", "ReLU", "Flatten", "Identity", "Dropout", "Sequential")
_INSTEAD = ("export the model to ONNX (torch.onnx.export) and read the .onnx file, or rebuild it as an "
            "nn.Sequential of Linear and ReLU")
_KEY_RE = re.compile(r"^(?:(.*)\.)?(\d+)\.(weight|bias)$")


def _torch() -> ModuleType:
    try:
        import torch
    except ImportError:
        raise InputError(
            "reading or writing PyTorch files needs torch; install the extra: pip install 'exactrelu[torch]'"
        ) from None
    return torch


def _entries(torch: ModuleType, tensor: Any, where: str, ndim: int) -> Any:
    """The exact rationals of a 1-D or 2-D tensor (floats widened to float64, which is exact)."""
    if not isinstance(tensor, torch.Tensor):
        raise NetworkFormatError(f"{where}: expected a tensor, got {type(tensor).__name__}")
    if tensor.dim() != ndim:
        expected = "2-D (out x in)" if ndim == 2 else "1-D"
        raise NetworkFormatError(f"{where}: must be {expected}, got shape {tuple(tensor.shape)}")
    if tensor.dtype in (torch.float16, torch.bfloat16, torch.float32):
        tensor = tensor.to(torch.float64)
    try:
        array = tensor.detach().cpu().numpy()
    except (RuntimeError, TypeError) as exc:
        raise NetworkFormatError(f"{where}: cannot read the tensor ({exc})") from None
    return exact_array(array, where)


def _walk(torch: ModuleType, module: Any, name: str, steps: list[Step]) -> None:
    nn = torch.nn
    kind = type(module)
    label = f"module {name!r} ({kind.__name__})" if name else f"the model ({kind.__name__})"
    if kind is nn.Sequential:
        for child_name, child in module.named_children():
            _walk(torch, child, f"{name}.{child_name}" if name else child_name, steps)
    elif kind is nn.Linear:
        prefix = f"{name}." if name else ""
        weight = _entries(torch, module.weight, f"{prefix}weight", 2)
        if module.bias is None:
            bias = (Fraction(0),) * module.out_features
        else:
            bias = _entries(torch, module.bias, f"{prefix}bias", 1)
        steps.append((label, (weight, bias)))
    elif kind is nn.ReLU:
        steps.append((label, None))
    elif kind in (nn.Flatten, nn.Identity, nn.Dropout, nn.Dropout1d, nn.AlphaDropout):
        return  # the identity on one input vector (Dropout in eval mode)
    elif isinstance(module, nn.modules.batchnorm._BatchNorm):
        raise NetworkFormatError(
            f"{label} is not supported: BatchNorm divides by sqrt(running_var + eps), which is not an exact "
            "rational map; fold it into the neighbouring Linear layer and save an nn.Sequential of Linear "
            "and ReLU, or export the model to ONNX (torch.onnx.export)"
        )
    elif not kind.__module__.startswith("torch.nn.") or any(isinstance(module, t) for t in (
            nn.Sequential, nn.Linear, nn.ReLU, nn.Flatten, nn.Identity, nn.Dropout)):
        raise NetworkFormatError(
            f"{label} is not supported by exactrelu: it is a custom nn.Module class, whose forward may "
            f"compute anything; {_INSTEAD}"
        )
    else:
        raise NetworkFormatError(
            f"{label} is not supported by exactrelu (supported: {', '.join(SUPPORTED_MODULES)})"
        )


def network_from_module(module: Any) -> ReluNetwork:
    """The exact network of an in-memory ``nn.Sequential`` (or a single supported module)."""
    torch = _torch()
    steps: list[Step] = []
    _walk(torch, module, "", steps)
    return network_from_steps(steps)


def _network_from_state_dict(torch: ModuleType, state: Mapping, notes: list[str]) -> ReluNetwork:
    layers: dict[int, dict[str, Any]] = {}
    stems = set()
    for key, value in state.items():
        match = _KEY_RE.match(key) if isinstance(key, str) else None
        if match is None:
            raise NetworkFormatError(
                f"state dict key {key!r} is not '<index>.weight' or '<index>.bias' of an nn.Sequential of "
                "Linear layers; save the whole model (torch.save(model)) instead"
            )
        stems.add(match[1] or "")
        layers.setdefault(int(match[2]), {})[match[3]] = value
    if not layers:
        raise NetworkFormatError("the state dict is empty")
    if len(stems) > 1:
        raise NetworkFormatError(
            f"state dict keys have different prefixes {sorted(stems)}; expected the state dict of one nn.Sequential"
        )
    stem = stems.pop()
    prefix = f"{stem}." if stem else ""
    indices = sorted(layers)
    if indices[0] != 0:
        raise NetworkFormatError(
            f"the first Linear layer is module '{prefix}{indices[0]}'; a state dict does not say what the "
            "parameter-free modules before it are; save the whole model (torch.save(model)) instead"
        )
    steps: list[Step] = []
    relus = []
    for previous, k in zip([None] + indices, indices):
        if previous is not None and k - previous == 2:
            relus.append(f"'{prefix}{previous + 1}'")
            steps.append((f"module '{prefix}{previous + 1}' (taken to be ReLU)", None))
        elif previous is not None and k - previous > 2:
            raise NetworkFormatError(
                f"modules '{prefix}{previous + 1}' to '{prefix}{k - 1}' have no parameters, so a state dict does "
                "not say what they are; save the whole model (torch.save(model)) instead"
            )
        entry = layers[k]
        if "weight" not in entry:
            raise NetworkFormatError(f"'{prefix}{k}.bias' has no weight '{prefix}{k}.weight'")
        weight = _entries(torch, entry["weight"], f"{prefix}{k}.weight", 2)
        if "bias" in entry:
            bias = _entries(torch, entry["bias"], f"{prefix}{k}.bias", 1)
        else:
            bias = (Fraction(0),) * len(weight)
        steps.append((f"module '{prefix}{k}' (Linear)", (weight, bias)))
    network = network_from_steps(steps)
    notes.append(
        "a state dict names only the Linear layers: read as an nn.Sequential whose parameter-free modules "
        + (f"{', '.join(relus)} are taken to be ReLU" if relus else "are absent") + "; nothing after the last "
        f"Linear ('{prefix}{indices[-1]}') is visible, so a final activation would be missing; save the model "
        "as ONNX to avoid these assumptions")
    return network


def _torchscript(path: Path) -> bool:
    """Whether the file is a TorchScript archive (``torch.jit.save``): a zip holding code."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
    return any(name.endswith("constants.pkl") or "/code/" in name for name in names)


def load(path: Path, trust_pickle: bool = False, notes: Optional[list[str]] = None) -> ReluNetwork:
    """Read a state dict (or, with ``trust_pickle``, a saved ``nn.Sequential``) exactly (see the
    module docstring); the assumptions a state dict needs are appended to ``notes``."""
    torch = _torch()
    path = Path(path)
    notes = [] if notes is None else notes
    if path.stat().st_size == 0:
        raise NetworkFormatError("empty file (expected a PyTorch model or state dict)")
    if _torchscript(path):
        raise NetworkFormatError(f"is a TorchScript archive (torch.jit.save), which exactrelu does not read; {_INSTEAD}")
    try:
        obj = torch.load(path, weights_only=not trust_pickle, map_location="cpu")
    except pickle.UnpicklingError as exc:
        if trust_pickle or "Unsupported global" not in str(exc):
            detail = str(exc).rsplit("error:", 1)[-1].split("Check the documentation")[0]
            raise NetworkFormatError(f"not a readable PyTorch file (UnpicklingError: {' '.join(detail.split())[:200]})") from None
        raise NetworkFormatError(
            "holds a pickled Python object (such as a whole model), and unpickling it runs code stored in "
            "the file: pass --trust-pickle (trust_pickle=True) only if you trust the file, or save the state "
            "dict (torch.save(model.state_dict())) or export the model to ONNX instead"
        ) from None
    except Exception as exc:  # unpickling a foreign or damaged file can raise any exception
        detail = " ".join(str(exc).split())
        raise NetworkFormatError(f"not a readable PyTorch file ({type(exc).__name__}: {detail[:200]})") from None
    if isinstance(obj, torch.nn.Module):
        return network_from_module(obj)
    if isinstance(obj, Mapping):
        return _network_from_state_dict(torch, obj, notes)
    raise NetworkFormatError(f"holds a {type(obj).__name__}; expected an nn.Sequential or its state dict")


def encode(network: ReluNetwork, round_to_nearest: bool = False) -> bytes:
    """The state dict of an ``nn.Sequential`` of float64 Linear and ReLU modules computing
    ``network`` (Linear layers at indices 0, 2, 4, ...), as ``torch.save`` writes it.

    Refused with :class:`NetworkFormatError` (naming the layer and entry) unless every weight is
    exactly a float64.
    With ``round_to_nearest`` every weight is rounded to the nearest float64 instead
    (:func:`~exactrelu.io.layers.float64_error` is the largest change, for the caller to report).
    """
    layers = float64_layers(network, "PyTorch", round_to_nearest)
    torch = _torch()
    state = {}
    for k, (weight, bias) in enumerate(layers):
        state[f"{2 * k}.weight"] = torch.from_numpy(weight.copy())
        state[f"{2 * k}.bias"] = torch.from_numpy(bias.copy())
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def save(network: ReluNetwork, path: Path, *, round_to_nearest: bool = False) -> Fraction:
    """Write :func:`encode` of ``network`` to ``path`` through :mod:`exactrelu.io.output`; return
    the largest rounding error (0 unless ``round_to_nearest``; the caller must report it)."""
    from .output import write_bytes

    write_bytes(path, encode(network, round_to_nearest))
    return float64_error(network, "PyTorch") if round_to_nearest else Fraction(0)
