"""The case-split tree on Dask (exactrelu.parallel): the merged result and the certificate written
from it are byte-identical to the serial run's, also when subtrees are split again on the workers,
when a worker is killed mid-run, and through the command line; an unreachable scheduler is exit 2;
without --workers/--scheduler nothing of Dask is imported."""

from __future__ import annotations

import io
import json
import os
import random
import signal
import socket
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import pytest

from exactrelu.certificate import StreamWriter, stream_shallow_certificate
from exactrelu.checker import Checker
from exactrelu.commands import main
from exactrelu.domain import Domain
from exactrelu.errors import IncompleteError, InputError, InternalError
from exactrelu.parallel import expand_frontier, merge, part_of
from exactrelu.regions import enumerate_regions, enumerate_subtree, root_node
from exactrelu.shallow import build_shallow

ROOT = Path(__file__).resolve().parent.parent


def certificate_text(e) -> str:
    out = io.StringIO()
    stream_shallow_certificate(out, e, build_shallow(e))
    return out.getvalue()


def domains(n: int):
    triangle = Domain.polytope([[Fraction(1)] + [Fraction(0)] * (n - 1), [Fraction(-1)] * n],
                               [Fraction(1), Fraction(2)]) if n else None
    return [Domain.box([-2] * n, [2] * n), Domain.reals(n), triangle]


CASES = [(seed, kind, dims) for seed, (kind, dims) in enumerate(
    [("generic", [2, 6, 5, 1]), ("mixed", [2, 5, 4, 1]), ("parallel", [2, 6, 1]), ("concurrent", [3, 5, 3, 2]),
     ("touching", [2, 4, 4, 1]), ("multi_output", [2, 5, 4, 2]), ("duplicate", [1, 4, 3, 1]), ("dead", [2, 5, 4, 1])])]


# ----------------------------------------------------------------------------- one process
@pytest.mark.parametrize("seed,kind,dims", CASES)
def test_local_frontier_and_partial_subtrees_merge_to_the_serial_tree(random_network, seed, kind, dims):
    """Frontier, subtrees resumed with a node budget (partial, resumed again), merged: the serial
    tree and regions, for every kind of domain."""
    net = random_network(random.Random(seed), dims, kind)
    for domain in domains(dims[0]):
        serial = enumerate_regions(net, domain)
        parts, frontier = expand_frontier(net, domain, root_node(net, domain), size=5)
        while frontier:
            node = frontier.pop()
            parts[node.path] = part = part_of(enumerate_subtree(net, domain, node, max_nodes=3), node.depth)
            frontier += part.pending
        merged = merge(net, domain, parts.pop)
        assert not parts
        assert merged.tree == serial.tree and merged.regions == serial.regions
        assert merged.nodes == serial.nodes and merged.empty_children == serial.empty_children
        assert certificate_text(merged) == certificate_text(serial)


def test_a_pending_node_deeper_than_the_network_is_refused(random_network):
    net = random_network(random.Random(0), [2, 3, 1])
    from exactrelu.regions import Pending

    with pytest.raises(InputError, match="decides 5 neurons"):
        enumerate_subtree(net, Domain.reals(2), Pending((True,) * 5, witness=(Fraction(0),) * 2))


def test_the_wire_form_refuses_what_is_not_the_engines_tree(random_network):
    """A split off the split order, or an object that is no node, is an internal error, not a
    silently different tree."""
    from exactrelu.parallel import encode
    from exactrelu.regions import Leaf, Split

    net = random_network(random.Random(0), [2, 3, 1])
    with pytest.raises(InternalError, match=r"a split at depth 0 is on neuron \(0, 1\), not \(0, 0\)"):
        encode(net, Split((0, 1), Leaf(0), Leaf(1)), [])
    with pytest.raises(InternalError, match="not a node of a case-split tree: str"):
        encode(net, "leaf", [])


def test_nothing_of_dask_is_imported_without_the_options(random_network, tmp_path):
    net = tmp_path / "net.json"
    net.write_text(json.dumps(random_network(random.Random(3), [2, 4, 1]).to_dict()))
    code = ("import sys; from exactrelu.commands import main; "
            f"rc = main(['regions', {str(net)!r}, '--quiet', '--box=-1:1']); "
            "print(rc, sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed'}))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip().splitlines()[-1] == "0 []"


# ----------------------------------------------------------------------------- a LocalCluster
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    from exactrelu.parallel import dask_client

    with dask_client(workers=2) as c:
        yield c


@pytest.mark.parametrize("seed,kind,dims", [CASES[1]] + [pytest.param(*case, marks=pytest.mark.slow)
                                                       for case in CASES[:5] if case != CASES[1]])
def test_cluster_certificate_is_byte_identical(random_network, client, seed, kind, dims):
    from exactrelu.parallel import enumerate_parallel

    net = random_network(random.Random(seed), dims, kind)
    for domain in domains(dims[0]):
        serial = enumerate_regions(net, domain)
        stats: dict = {}
        streamed = []
        merged = enumerate_parallel(net, domain, client, split_nodes=4, frontier=4, stats=stats,
                                    on_region=streamed.append)
        assert certificate_text(merged) == certificate_text(serial)
        assert streamed == serial.regions  # handed out in order
        assert merged.nodes == serial.nodes


def test_cluster_certificate_checks(random_network, client, tmp_path):
    from exactrelu.parallel import enumerate_parallel

    net = random_network(random.Random(11), [2, 6, 4, 1])
    merged = enumerate_parallel(net, Domain.reals(2), client, split_nodes=5)
    path = tmp_path / "c.json"
    path.write_text(certificate_text(merged))
    Checker(str(path)).run()  # raises CheckFailure if not verified


def test_cluster_survives_a_worker_killed_mid_run(random_network, client):
    """The first time a part arrives, the worker that is busy with a task is killed (SIGKILL);
    the scheduler recomputes its subtrees elsewhere and the certificate is still identical."""
    from exactrelu.parallel import enumerate_parallel

    net = random_network(random.Random(21), [2, 10, 8, 1])
    domain = Domain.box([-3, -3], [3, 3])
    serial = enumerate_regions(net, domain)
    killed: list[str] = []

    def kill_one(regions, nodes, lps):
        if killed:
            return
        busy = [w for w, keys in client.processing().items() if keys]
        if busy:
            killed.append(busy[0])
            pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
            os.kill(pid, signal.SIGKILL)

    merged = enumerate_parallel(net, domain, client, split_nodes=10, frontier=8, progress=kill_one)
    assert killed, "no worker was busy when the first part arrived"
    assert killed[0] not in client.scheduler_info()["workers"]
    assert certificate_text(merged) == certificate_text(serial)
    client.wait_for_workers(2, timeout=60)  # the nanny restarts it for the next tests


def streamed_files(e_of, net, domain) -> tuple[str, bytes]:
    """The version-3 certificate (its header's shallow hash left unpatched) and the shallow file a
    :class:`StreamWriter` writes when ``e_of(sink)`` feeds it."""
    cert, shallow = io.StringIO(), io.BytesIO()
    writer = StreamWriter(cert, net, domain, "s.json", lambda offset, raw: None)
    e = e_of(writer)
    assert e.tree is None and e.regions == [] and e.streamed == writer.shallow.regions  # nothing kept
    writer.finish(shallow)
    return cert.getvalue(), shallow.getvalue()


@pytest.mark.parametrize("seed,kind,dims", [CASES[0], CASES[3]] + [pytest.param(*case, marks=pytest.mark.slow)
                                                                 for case in CASES if case not in (CASES[0], CASES[3])])
def test_cluster_streams_the_serial_version_3_files(random_network, client, seed, kind, dims):
    """The merge feeds the sink node by node in the serial preorder, also when the workers split
    their subtrees again (4 nodes a task): the same version-3 certificate and shallow file."""
    from exactrelu.parallel import enumerate_parallel

    net = random_network(random.Random(seed), dims, kind)
    for domain in domains(dims[0]):
        serial = streamed_files(lambda sink: enumerate_regions(net, domain, sink=sink), net, domain)
        merged = streamed_files(lambda sink: enumerate_parallel(net, domain, client, split_nodes=4, frontier=4,
                                                                sink=sink), net, domain)
        assert merged == serial


@pytest.mark.slow
def test_cluster_streams_through_a_worker_killed_mid_run(random_network, client):
    """As the killed-worker test above, with the version-3 writer fed by the merge."""
    from exactrelu.parallel import enumerate_parallel

    net = random_network(random.Random(21), [2, 10, 8, 1])
    domain = Domain.box([-3, -3], [3, 3])
    killed: list[str] = []

    def kill_one(regions, nodes, lps):
        busy = [w for w, keys in client.processing().items() if keys]
        if busy and not killed:
            killed.append(busy[0])
            os.kill(client.run(os.getpid, workers=[busy[0]])[busy[0]], signal.SIGKILL)

    serial = streamed_files(lambda sink: enumerate_regions(net, domain, sink=sink), net, domain)
    merged = streamed_files(lambda sink: enumerate_parallel(net, domain, client, split_nodes=10, frontier=8,
                                                            progress=kill_one, sink=sink), net, domain)
    assert killed, "no worker was busy when the first part arrived"
    assert merged == serial
    client.wait_for_workers(2, timeout=60)


@pytest.mark.slow
def test_cluster_region_budget_is_incomplete(random_network, client):
    from exactrelu.parallel import enumerate_parallel

    net = random_network(random.Random(5), [2, 8, 6, 1])
    domain = Domain.box([-2, -2], [2, 2])
    count = len(enumerate_regions(net, domain).regions)
    with pytest.raises(IncompleteError, match="budget"):
        enumerate_parallel(net, domain, client, max_regions=count - 1, split_nodes=5)
    assert len(enumerate_parallel(net, domain, client, max_regions=count).regions) == count


def test_an_interrupted_cluster_start_kills_the_starting_workers():
    """Ctrl-C while the local cluster's workers start (the wait for them is interrupted as soon as
    one worker process exists): that process is killed, not waited for, the cluster is closed, and
    nothing is printed at exit (Dask's exit handler printed a traceback)."""
    code = textwrap.dedent("""
        import multiprocessing, time
        import distributed
        from exactrelu.parallel import WORKER_PROCESS, dask_client

        started = []

        def interrupted(self, n_workers, timeout=None):
            while not started:
                started.extend(p for p in multiprocessing.active_children() if p.name == WORKER_PROCESS)
                time.sleep(0.01)
            raise KeyboardInterrupt

        distributed.deploy.cluster.Cluster.wait_for_workers = interrupted
        try:
            with dask_client(workers=2):
                print("started")
        except KeyboardInterrupt:
            for p in started:
                p.join(30)
            for p in multiprocessing.active_children():
                p.join(30)  # a worker spawned after the interrupt: killed too, but reaped later under load
            print(sorted({p.exitcode for p in started}), multiprocessing.active_children())
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[-2] == f"[{-signal.SIGKILL}] []"
    assert "Traceback" not in out.stderr, out.stderr


def test_unreachable_scheduler_is_a_clear_error():
    from exactrelu.parallel import dask_client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(InputError, match=f"--scheduler tcp://127.0.0.1:{port}: cannot reach a Dask scheduler"):
        with dask_client(scheduler=f"tcp://127.0.0.1:{port}", timeout=1):
            pass


# ----------------------------------------------------------------------------- the commands
@pytest.fixture()
def net_file(random_network, tmp_path):
    path = tmp_path / "net.json"
    path.write_text(json.dumps(random_network(random.Random(5), [2, 8, 6, 1]).to_dict()))
    return path


def test_cli_scheduler_errors_exit_2(net_file, capsys):
    assert main(["regions", str(net_file), "--scheduler", "nonsense"]) == 2
    assert "--scheduler nonsense: not a scheduler address" in capsys.readouterr().err
    assert main(["regions", str(net_file), "--scheduler", "tcp://127.0.0.1:1", "--workers", "2"]) == 2
    assert "either --workers or --scheduler" in capsys.readouterr().err


def test_cli_shallow_and_regions_on_a_cluster_are_identical(client, net_file, tmp_path, capsys):
    serial, par = tmp_path / "serial", tmp_path / "par"
    serial.mkdir()
    par.mkdir()
    assert main(["shallow", str(net_file), "--box=-2:2", "-o", str(serial / "s.json"), "--quiet"]) == 0
    assert main(["shallow", str(net_file), "--box=-2:2", "-o", str(par / "s.json"), "--quiet",
                 "--scheduler", client.scheduler.address]) == 0
    assert (serial / "s.cert.json").read_bytes() == (par / "s.cert.json").read_bytes()
    assert (serial / "s.json").read_bytes() == (par / "s.json").read_bytes()
    assert main(["regions", str(net_file), "--json", str(serial / "r.json")]) == 0
    assert main(["regions", str(net_file), "--json", str(par / "r.json"), "--scheduler", client.scheduler.address]) == 0
    assert (serial / "r.json").read_bytes() == (par / "r.json").read_bytes()


def test_cli_verify_on_a_cluster_gives_the_serial_certificate(client, net_file, tmp_path):
    prop = tmp_path / "p.vnnlib"
    prop.write_text("(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)\n"
                    "(assert (or (and (>= X_0 -2) (<= X_0 0) (>= X_1 -2) (<= X_1 2))"
                    " (and (>= X_0 0) (<= X_0 2) (>= X_1 -2) (<= X_1 2))))\n(assert (>= Y_0 1000))\n")
    certs = [tmp_path / "serial.cert.json", tmp_path / "par.cert.json"]
    assert main(["verify", str(net_file), str(prop), "--certificate", str(certs[0]), "--quiet"]) == 0
    assert main(["verify", str(net_file), str(prop), "--certificate", str(certs[1]), "--quiet",
                 "--scheduler", client.scheduler.address]) == 0
    assert certs[0].read_bytes() == certs[1].read_bytes()
    assert b'"input_sets"' in certs[0].read_bytes()


@pytest.mark.parametrize("seed,kind,dims", [CASES[0], CASES[1], CASES[4]])
def test_cli_shallow_stream_on_a_cluster_is_identical_and_checks(random_network, client, tmp_path, seed, kind, dims):
    """``shallow --stream --scheduler``: the certificate and shallow file are byte-equal to the serial
    ``--stream`` run's, and the checker verifies them."""
    model = tmp_path / "net.json"
    model.write_text(json.dumps(random_network(random.Random(seed), dims, kind).to_dict()))
    box = "--box=" + ",".join(["-2:2"] * dims[0])
    for name, extra in (("serial", []), ("par", ["--scheduler", client.scheduler.address])):
        (tmp_path / name).mkdir()
        assert main(["shallow", str(model), box, "-o", str(tmp_path / name / "s.json"), "--stream", "--quiet", *extra]) == 0
    for file in ("s.json", "s.cert.json"):
        assert (tmp_path / "serial" / file).read_bytes() == (tmp_path / "par" / file).read_bytes()
    assert json.loads((tmp_path / "par" / "s.cert.json").read_text().split("\n", 1)[0])["version"] == 3
    Checker(str(tmp_path / "par" / "s.cert.json"), model=str(model), shallow=str(tmp_path / "par" / "s.json")).run()


def test_cli_shallow_stream_budget_on_a_cluster_leaves_nothing(random_network, client, net_file, tmp_path, capsys):
    """A budget stops the streamed cluster run: exit 3, and neither file (nor a temporary one) is left."""
    net = random_network(random.Random(5), [2, 8, 6, 1])  # net_file's network
    count = len(enumerate_regions(net, Domain.box([-2, -2], [2, 2])).regions)
    out = tmp_path / "out"
    out.mkdir()
    assert main(["shallow", str(net_file), "--box=-2:2,-2:2", "-o", str(out / "s.json"), "--stream", "--quiet",
                 "--max-regions", str(count - 1), "--scheduler", client.scheduler.address]) == 3
    assert "budget" in capsys.readouterr().err
    assert list(out.iterdir()) == []
