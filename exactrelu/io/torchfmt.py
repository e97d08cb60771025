"""PyTorch ``.pt``/``.pth`` files: a whole saved ``nn.Sequential``, or the state dict of one.

Invariant: the network returned is exactly the function the model computes on one input
vector: tensor entries (float16, bfloat16, float32, float64) are converted exactly, a Linear
without bias gets a zero bias, and consecutive Linear layers with no ReLU between them are
composed exactly.  Modules other than Linear, ReLU, Flatten, Identity and (nested) Sequential
are refused by name, as are their subclasses (a subclass may override ``forward``).

A state dict names only the modules with parameters, so it is read as the usual
``Linear, ReLU, Linear, ..., Linear``: between ``k.weight`` and ``(k+2).weight`` the
parameter-free module ``k+1`` is taken to be a ReLU; Linear layers with consecutive indices are
composed (nothing sits between them).  Larger gaps, or a first Linear that is not module 0, are
refused as ambiguous; nothing after the last Linear is visible in a state dict.  Save the whole
model (``torch.save(model)``) to avoid these assumptions.

A ``.pt`` file is a pickle: reading a whole model runs code stored in the file, so read only
files you trust.  ``torch`` is imported only when a file is read or written
(``pip install 'exactrelu[torch]'``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from types import ModuleType
from typing import Any

from ..errors import InputError, NetworkFormatError
from ..network import ReluNetwork
from .layers import Step, exact_array, float64_weights, network_from_steps

__all__ = ["load", "save", "network_from_module", "SUPPORTED_MODULES"]

SUPPORTED_MODULES = ("Linear", "ReLU", "Flatten", "Identity", "Sequential")
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
    elif kind not in (nn.Flatten, nn.Identity):
        raise NetworkFormatError(
            f"{label} is not supported by exactrelu (supported: {', '.join(SUPPORTED_MODULES)})"
        )


def network_from_module(module: Any) -> ReluNetwork:
    """The exact network of an in-memory ``nn.Sequential`` (or a single supported module)."""
    torch = _torch()
    steps: list[Step] = []
    _walk(torch, module, "", steps)
    return network_from_steps(steps)


def _network_from_state_dict(torch: ModuleType, state: Mapping) -> ReluNetwork:
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
    for previous, k in zip([None] + indices, indices):
        if previous is not None and k - previous == 2:
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
    return network_from_steps(steps)


def load(path: Path) -> ReluNetwork:
    """Read a saved ``nn.Sequential`` or its state dict, exactly (see the module docstring)."""
    torch = _torch()
    path = Path(path)
    if path.stat().st_size == 0:
        raise NetworkFormatError("empty file (expected a PyTorch model or state dict)")
    try:
        obj = torch.load(path, weights_only=False, map_location="cpu")
    except Exception as exc:  # unpickling a foreign or damaged file can raise any exception
        detail = " ".join(str(exc).split())
        raise NetworkFormatError(f"not a readable PyTorch file ({type(exc).__name__}: {detail})") from None
    if isinstance(obj, torch.nn.Module):
        return network_from_module(obj)
    if isinstance(obj, Mapping):
        return _network_from_state_dict(torch, obj)
    raise NetworkFormatError(f"holds a {type(obj).__name__}; expected an nn.Sequential or its state dict")


def save(network: ReluNetwork, path: Path, *, round_to_nearest: bool = False) -> Fraction:
    """Write ``network`` as an ``nn.Sequential`` of float64 Linear and ReLU modules.

    Refused with :class:`NetworkFormatError` unless every weight is exactly a float64, or, with
    ``round_to_nearest``, every weight is rounded to the nearest float64.  Returns the largest
    rounding error ``|float64(w) - w|`` (0 when the file holds the network exactly), which the
    caller must report.
    """
    layers, error = float64_weights(network, "PyTorch", round_to_nearest)
    torch = _torch()
    nn = torch.nn
    modules = []
    for k, (weight, bias) in enumerate(layers):
        if k:
            modules.append(nn.ReLU())
        linear = nn.Linear(weight.shape[1], weight.shape[0], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(weight))
            linear.bias.copy_(torch.from_numpy(bias))
        modules.append(linear)
    torch.save(nn.Sequential(*modules), Path(path))
    return error
