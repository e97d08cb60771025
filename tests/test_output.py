"""The one output writer (exactrelu/io/output.py) as every command uses it: FIFOs and pipes
(``/dev/fd/N``) written in place, symlinks followed, ``-`` for stdout, a read-only folder, an
output that is an input or another output, pairs that appear together or not at all (also under a
concurrent writer's lock and after SIGTERM), and ``convert`` writing the format its extension names.
No test touches the machine's real /dev files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path

import pytest

from exactrelu.commands import main
from exactrelu.errors import OutputError
from exactrelu.io import load_model
from exactrelu.io.output import Outputs
from exactrelu.network import ReluNetwork

ROOT = Path(__file__).resolve().parent.parent
ABS = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, 1]], [0])])
THIRD = ReluNetwork.from_lists([([[1], ["1/3"]], [0, 0]), ([[1, 1]], [0])])


@pytest.fixture
def model(abs_model: Path) -> Path:
    return abs_model


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def read_fifo(path: Path, into: list) -> threading.Thread:
    def reader() -> None:
        with open(path, "rb") as fh:
            into.append(fh.read())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    return thread


# ============================================================================ non-regular targets
def test_a_fifo_is_written_in_place(run_main, tmp_path, model) -> None:
    fifo = tmp_path / "regions.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    thread = read_fifo(fifo, got)
    code, out, _ = run_main("regions", model, "--json", fifo)
    thread.join(30)
    assert code == 0 and out.startswith("3 regions")
    assert json.loads(got[0])["regions"] == 3
    assert fifo.is_fifo() and listing(tmp_path) == ["abs.json", "regions.fifo"]  # no temporary file, not replaced


def test_a_pipe_as_dev_fd_is_written_in_place(tmp_path, model) -> None:
    """Process substitution: the output is /dev/fd/N of a pipe this test creates."""
    r, w = os.pipe()
    with os.fdopen(r, "rb") as reader:
        proc = subprocess.Popen([sys.executable, "-m", "exactrelu", "regions", str(model), "--json", f"/dev/fd/{w}"],
                                pass_fds=(w,), stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
        os.close(w)
        data = reader.read()
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert json.loads(data)["regions"] == 3 and out.startswith(b"3 regions")


def test_dash_is_stdout(run_main, model) -> None:
    code, out, err = run_main("regions", model, "--json", "-")
    assert code == 0 and json.loads(out)["regions"] == 3
    code, out, _ = run_main("convert", model, "-")
    assert code == 0 and json.loads(out) == json.loads(json.dumps(ABS.to_dict()))


def test_a_symlink_is_followed_not_replaced(run_main, tmp_path, model) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "s.json").write_text("old")
    link = tmp_path / "s.json"
    link.symlink_to(real / "s.json")
    code, _, err = run_main("shallow", model, "--box=-1:1", "-o", link, "--certificate", tmp_path / "s.cert.json")
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == str(real / "s.json")
    assert json.loads((real / "s.json").read_text())["format"] == "exactrelu-shallow"
    assert listing(real) == ["s.json"]
    assert main(["check", str(tmp_path / "s.cert.json"), "--shallow", str(link)]) == 0


# ============================================================================ refused before work
@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if the enumeration starts."""
    import exactrelu.regions

    def forbidden(*args, **kwargs):
        raise AssertionError("the computation started before the outputs were checked")

    monkeypatch.setattr(exactrelu.regions, "enumerate_regions", forbidden)


def test_a_read_only_folder_is_refused_before_work(run_main, tmp_path, model, no_work, monkeypatch) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    if os.geteuid() == 0:  # root writes anywhere: make creating the temporary file fail as it would
        real = tempfile.mkstemp

        def refuse(*args, dir=None, **kwargs):
            if Path(dir) == locked:
                raise PermissionError(13, "Permission denied")
            return real(*args, dir=dir, **kwargs)

        monkeypatch.setattr(tempfile, "mkstemp", refuse)
    else:
        locked.chmod(0o555)
    try:
        code, out, err = run_main("shallow", model, "-o", tmp_path / "s.json", "--certificate", locked / "c.json")
    finally:
        locked.chmod(0o755)
    assert code == 2 and out == ""
    assert str(locked / "c.json") in err and ".tmp" not in err and "ermission denied" in err
    assert listing(tmp_path) == ["abs.json", "locked"] and listing(locked) == []


@pytest.mark.parametrize("argv", [
    ["convert", "{model}", "{model}"],
    ["shallow", "{model}", "-o", "{model}"],
    ["shallow", "{model}", "-o", "{tmp}/s.json", "--certificate", "{model}"],
    ["prune", "{model}", "-o", "{tmp}/p.json", "--certificate", "{tmp}/abs.json"],
])
def test_an_output_that_is_an_input_is_refused(run_main, tmp_path, model, no_work, argv) -> None:
    before = model.read_bytes()
    code, out, err = run_main(*[a.format(model=model, tmp=tmp_path) for a in argv])
    assert code == 2 and "is also an input; refusing to overwrite it" in err
    assert model.read_bytes() == before and listing(tmp_path) == ["abs.json"]


def test_the_same_output_twice_is_refused(run_main, tmp_path, model, no_work) -> None:
    code, _, err = run_main("shallow", model, "-o", tmp_path / "x.json", "--certificate", tmp_path / "x.json")
    assert code == 2 and "is given twice as an output" in err
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "b.json").symlink_to(tmp_path / "a.json")
    code, _, err = run_main("shallow", model, "-o", tmp_path / "a.json", "--certificate", tmp_path / "b.json")
    assert code == 2 and "is given twice as an output" in err
    assert (tmp_path / "a.json").read_text() == "{}"


def test_a_missing_folder_or_a_folder_as_output_is_refused_before_work(run_main, tmp_path, model, no_work) -> None:
    code, _, err = run_main("shallow", model, "-o", tmp_path / "nowhere" / "s.json")
    assert code == 2 and "does not exist" in err
    code, _, err = run_main("shallow", model, "-o", tmp_path)
    assert code == 2 and "is a folder" in err


# ============================================================================ pairs
def test_a_failure_before_the_pair_is_complete_leaves_nothing(run_main, tmp_path, model, monkeypatch) -> None:
    import exactrelu.certificate

    (tmp_path / "s.json").write_text("old network")

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(exactrelu.certificate, "stream_shallow_certificate", broken)
    code, _, err = run_main("shallow", model, "-o", tmp_path / "s.json")
    assert code == 2 and "No space left" in err
    assert listing(tmp_path) == ["abs.json", "s.json"] and (tmp_path / "s.json").read_text() == "old network"


def test_a_concurrent_writer_cannot_interleave_a_pair(tmp_path) -> None:
    """While another writer holds the folder's lock, a commit renames nothing; then both files of
    one writer appear together."""
    import fcntl

    outputs = Outputs()
    a, b = outputs.add(tmp_path / "s.json"), outputs.add(tmp_path / "s.cert.json")
    outputs.open()
    a.write("network\n")
    b.write("certificate\n")
    fd = os.open(tmp_path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    thread = threading.Thread(target=outputs.commit)
    thread.start()
    time.sleep(0.3)
    assert not (tmp_path / "s.json").exists() and not (tmp_path / "s.cert.json").exists()
    os.close(fd)  # the other writer is done
    thread.join(30)
    assert (tmp_path / "s.json").read_text() == "network\n" and (tmp_path / "s.cert.json").read_text() == "certificate\n"
    assert listing(tmp_path) == ["s.cert.json", "s.json"]


def test_sigterm_is_like_ctrl_c(tmp_path, model) -> None:
    """SIGTERM mid-run (the enumeration made slow on purpose): exit 3, no temporary file, no output,
    and the message does not claim more or less than what was written."""
    code = ("import sys, time, exactrelu.regions\n"
            "real = exactrelu.regions.enumerate_regions\n"
            "def slow(*a, **k):\n"
            "    print('started', flush=True)\n"
            "    time.sleep(60)\n"
            "    return real(*a, **k)\n"
            "exactrelu.regions.enumerate_regions = slow\n"
            "from exactrelu.commands import main\n"
            "sys.exit(main(sys.argv[1:]))\n")
    proc = subprocess.Popen([sys.executable, "-c", code, "shallow", str(model), "-o", str(tmp_path / "s.json")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout.readline() == "started\n"
    assert any(name.endswith(".tmp") for name in os.listdir(tmp_path))  # the outputs were opened before the work
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    assert "INCOMPLETE: interrupted" in err and "nothing was written" in err
    assert listing(tmp_path) == ["abs.json"]


# ============================================================================ convert
@pytest.mark.parametrize("suffix", [".json", ".npz", ".onnx", ".pt", ".nnet"])
def test_convert_writes_the_format_its_extension_names(run_main, tmp_path, model, suffix) -> None:
    if suffix == ".onnx":
        pytest.importorskip("onnx")
    if suffix == ".pt":
        pytest.importorskip("torch")
    out = tmp_path / f"net{suffix}"
    extra = ["--box=-1:2"] if suffix == ".nnet" else []
    code, _, err = run_main("convert", model, out, *extra)
    assert code == 0, err
    loaded = load_model(out)
    assert loaded.format == {".json": "json", ".npz": "npz", ".onnx": "onnx", ".pt": "torch", ".nnet": "nnet"}[suffix]
    assert loaded.network == ABS
    if suffix == ".nnet":
        assert loaded.default_box == ((Fraction(-1),), (Fraction(2),))
    third = tmp_path / "third.json"
    third.write_text(json.dumps(THIRD.to_dict()))
    if suffix != ".json":
        code, _, err = run_main("convert", third, tmp_path / f"third{suffix}", *extra)
        assert code == 2 and "layer 0" in err and "1/3" in err and "save it as JSON instead" in err
        assert not (tmp_path / f"third{suffix}").exists()


def test_convert_refuses_an_unknown_extension_and_a_missing_nnet_box(run_main, tmp_path, model) -> None:
    code, _, err = run_main("convert", model, tmp_path / "net.h5")
    assert code == 2 and "cannot write the extension '.h5'" in err
    code, _, err = run_main("convert", model, tmp_path / "net.nnet")
    assert code == 2 and "give --box" in err
    assert listing(tmp_path) == ["abs.json"]


def test_errors_name_the_users_path_not_a_temporary_file(tmp_path, monkeypatch) -> None:
    def refuse(src, dst):
        raise PermissionError(13, "Permission denied", src)

    monkeypatch.setattr(os, "replace", refuse)
    with Outputs() as outputs:
        target = outputs.add(tmp_path / "x.json")
        outputs.open()
        target.write("1")
        with pytest.raises(OutputError) as exc:
            outputs.commit()
    assert str(exc.value) == f"{tmp_path / 'x.json'}: cannot write: Permission denied"
    assert listing(tmp_path) == []
