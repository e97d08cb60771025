"""Defects found by the adversarial review (breaker branch), kept as strict xfail tests: each
passes once its defect is fixed (then drop the mark)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from exactrelu.errors import InputError
from exactrelu.io.jsonfmt import network_from_dict

CHECKER = Path(__file__).resolve().parents[1] / "exactrelu" / "checker.py"

# A 150-byte file whose sparse first layer claims 10**13 columns: both readers expand it to a
# dense list of lists before anything else, so the answer is a MemoryError traceback (or, for a
# shape of about 1e9, gigabytes of memory) instead of one clear line.
HUGE = {"format": "exactrelu-network", "version": 1,
        "layers": [{"weight": {"shape": [1, 10 ** 13], "entries": []}, "bias": [0]},
                   {"weight": [[1]], "bias": [0]}]}


@pytest.mark.xfail(strict=True, raises=MemoryError,
                   reason="sparse weight: the loader expands the declared shape densely (MemoryError, not an InputError)")
def test_sparse_huge_shape_is_refused_by_the_loader():
    with pytest.raises(InputError):
        network_from_dict(HUGE, "huge")


@pytest.mark.xfail(strict=True, reason="sparse weight: the checker expands the declared shape densely (traceback, exit 1)")
def test_sparse_huge_shape_is_refused_by_the_checker(tmp_path):
    cert = {"format": "exactrelu-certificate", "version": 2, "network": HUGE}
    path = tmp_path / "huge.cert.json"
    path.write_text(json.dumps(cert))
    result = subprocess.run([sys.executable, str(CHECKER), str(path)], capture_output=True, text=True)
    assert "Traceback" not in result.stderr and result.returncode in (1, 2)


@pytest.mark.xfail(strict=True, reason="a shallow file chosen by the certificate (shallow.file, '..' allowed) is reported "
                                       "'pinned', the word the user guide reserves for a file the auditor named")
def test_a_file_the_certificate_names_is_not_reported_pinned(tmp_path):
    from exactrelu import checker

    net = {"format": "exactrelu-network", "version": 1,
           "layers": [{"weight": [[1], [-1]], "bias": [0, 0]}, {"weight": [[1, 1]], "bias": [0]}]}
    (tmp_path / "net.json").write_text(json.dumps(net))
    (tmp_path / "decoy").mkdir()
    (tmp_path / "ship").mkdir()
    result = subprocess.run([sys.executable, "-m", "exactrelu", "shallow", str(tmp_path / "net.json"), "--box=-1:1",
                             "--stream", "-o", str(tmp_path / "decoy" / "S.json"),
                             "--certificate", str(tmp_path / "ship" / "S.cert.json"), "--quiet"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    check = checker.Checker(str(tmp_path / "ship" / "S.cert.json"), model=str(tmp_path / "net.json"))
    check.run()
    (status,) = [status for what, _, status in check.bindings if what == "shallow network"]
    assert not status.startswith("pinned")
