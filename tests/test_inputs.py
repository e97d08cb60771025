"""Inputs read honestly: a PyTorch state dict's assumptions are said on stderr, Dropout loads as the
identity, TorchScript / custom modules / BatchNorm get a message saying what to do instead, full
pickles need --trust-pickle; rationals of any size (a weight of 1e300 through 17 layers); ONNX with
missing external data, huge JSON exponents and NUL bytes are one clear line; ``"1 / 3"`` reads as
docs/formats.md says."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from exactrelu.errors import InputError, NetworkFormatError
from exactrelu.io import load_model
from exactrelu.io.jsonfmt import network_from_dict
from exactrelu.network import ReluNetwork
from exactrelu.rationals import parse_rational


def network_json(layers) -> dict:
    return {"format": "exactrelu-network", "version": 1, "layers": layers}


# ============================================================================ PyTorch
def test_a_state_dict_says_what_it_assumes(run_main, tmp_path) -> None:
    torch = pytest.importorskip("torch")
    nn = torch.nn
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)).double()
    path = tmp_path / "state.pt"
    torch.save(model.state_dict(), path)
    loaded = load_model(path)
    assert loaded.network == __import__("exactrelu.io.torchfmt", fromlist=["x"]).network_from_module(model)
    assert len(loaded.notes) == 1 and "'1' are taken to be ReLU" in loaded.notes[0]
    code, out, err = run_main("info", path)
    assert code == 0 and "note:" in err and "nothing after the last Linear ('2') is visible" in err
    code, _, err = run_main("info", path, "--quiet")
    assert code == 0 and err == ""


def test_dropout_in_a_whole_model_is_the_identity(run_main, tmp_path) -> None:
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(1)
    with_dropout = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Dropout(0.5), nn.Linear(3, 1)).double()
    plain = nn.Sequential(with_dropout[0], nn.ReLU(), with_dropout[3])
    path = tmp_path / "dropout.pt"
    torch.save(with_dropout, path)
    code, _, err = run_main("eval", path, "--x", "1/2,-1")
    assert code == 2 and "--trust-pickle" in err and "runs code" in err  # a full pickle needs the opt-in
    code, out, err = run_main("eval", path, "--x", "1/2,-1", "--trust-pickle")
    assert code == 0, err
    from exactrelu.io.torchfmt import network_from_module

    assert out.strip() == ",".join(str(v) for v in network_from_module(plain).evaluate(["1/2", -1]))


def test_unsupported_torch_models_say_what_to_do(tmp_path) -> None:
    torch = pytest.importorskip("torch")
    nn = torch.nn
    from exactrelu.io import torchfmt

    with pytest.raises(NetworkFormatError, match=r"BatchNorm divides by sqrt.*export the model to ONNX"):
        torchfmt.network_from_module(nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2), nn.Linear(2, 1)))

    class Custom(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(2, 1)

        def forward(self, x):  # type: ignore[no-untyped-def]
            return self.fc(x) ** 2

    with pytest.raises(NetworkFormatError, match=r"custom nn\.Module class.*torch\.onnx\.export"):
        torchfmt.network_from_module(Custom())
    scripted = torch.jit.script(nn.Sequential(nn.Linear(2, 1)))
    path = tmp_path / "scripted.pt"
    torch.jit.save(scripted, str(path))
    with pytest.raises(NetworkFormatError, match=r"TorchScript archive .*torch\.onnx\.export"):
        load_model(path)


def test_torch_save_writes_a_state_dict_that_needs_no_trust(tmp_path) -> None:
    pytest.importorskip("torch")
    from exactrelu.io import torchfmt

    net = ReluNetwork.from_lists([([[1, "1/2"], [-3, 0]], [0, "1/4"]), ([[1, 1]], [-1])])
    torchfmt.save(net, tmp_path / "n.pt")
    assert load_model(tmp_path / "n.pt").network == net


# ============================================================================ sizes and malformed input
def test_a_weight_of_1e300_through_17_layers(run_main, tmp_path) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps(network_json([{"weight": [[1e300]], "bias": [0]}] * 17 + [{"weight": [[1]], "bias": [0]}])))
    expected = Fraction(1e300) ** 17
    assert len(str(expected.numerator)) > 5000  # beyond Python's default 4300-digit limit
    code, out, err = run_main("info", path)
    assert code == 0 and "hidden_layers: 17" in out, err
    code, out, err = run_main("eval", path, "--x", "1")
    assert code == 0 and Fraction(out.strip()) == expected, err
    code, out, err = run_main("regions", path, "--box=-1:1")
    assert code == 0 and out.startswith("2 regions (2 full-dimensional"), err


def test_onnx_with_missing_external_data_is_one_line(run_main, tmp_path) -> None:
    onnx = pytest.importorskip("onnx")
    from exactrelu.io import onnxfmt

    net = ReluNetwork.from_lists([([[1, 2], [3, 4]], [0, 0]), ([[1, 1]], [0])])
    model = onnx.load_from_string(onnxfmt.encode(net))
    path = tmp_path / "m.onnx"
    onnx.save_model(model, str(path), save_as_external_data=True, location="m.data", size_threshold=0)
    assert load_model(path).network == net
    (tmp_path / "m.data").unlink()
    code, out, err = run_main("info", path)
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and "cannot load the model's external data" in err


@pytest.mark.parametrize("entry, message", [
    ("1e999999", r"the number 1e999999 is too large for a binary64 number"),
    ('"1e999999999"', r"the exponent of '1e999999999' exceeds 100000"),
    ('"1e' + "9" * 5000 + '"', r"exceeds 100000"),
])
def test_a_huge_exponent_is_one_clear_line(run_main, tmp_path, entry, message) -> None:
    path = tmp_path / "huge.json"
    path.write_text('{"format": "exactrelu-network", "version": 1, "layers": [{"weight": [[%s]], "bias": [0]}]}' % entry)
    code, out, err = run_main("info", path)
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and str(path) in err
    import re

    assert re.search(message, err), err


def test_a_nul_byte_in_a_path_is_an_input_error() -> None:
    with pytest.raises(InputError, match="NUL byte"):
        load_model("net\0.json")


@pytest.mark.parametrize("text, value", [
    ("1 / 3", Fraction(1, 3)), (" -2/ 6 ", Fraction(-1, 3)), ("1\t/\t3", Fraction(1, 3)), ("+4 /6", Fraction(2, 3)),
    ("2.5e1", Fraction(25)),
])
def test_spaces_around_the_slash_are_read_as_formats_md_says(text, value) -> None:
    assert parse_rational(text) == value
    net = network_from_dict(network_json([{"weight": [[text]], "bias": [text]}]), "net")
    assert net.layers[0].weight == ((value,),) and net.layers[0].bias == (value,)


@pytest.mark.parametrize("text", ["- 1/3", "1/ -3", "1/0", "1//3", "1/3/4", "0x10", "1_000", "2.5/5", "1e3/2", "\u0661/3"])
def test_malformed_rationals_are_refused(text) -> None:
    with pytest.raises(InputError):
        parse_rational(text)
