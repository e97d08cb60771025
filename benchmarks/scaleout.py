"""Scale-out benchmark (issue 15): the case-split tree on a Dask LocalCluster.

    python benchmarks/scaleout.py [--only NAME] [--split-nodes 2000] [--transport] [--rss [--stream] [--rss-only]]

For the largest benchmark networks over [-2, 2]^n: wall and CPU seconds of the serial engine, and
of :func:`exactrelu.parallel.enumerate_parallel` on a LocalCluster of 1 and of 2 worker processes
(cluster start-up not included): wall seconds, the CPU seconds of the client process (which also
runs the scheduler) and the sum over the worker processes (``time.process_time`` in each, before
and after), the frontier and the number of subtree tasks, the speed-up serial / 2 workers, the
overhead per task in wall time ``(1 worker - serial) / tasks`` and in CPU time ``(workers + client
- serial) / tasks`` (the load-independent figure on a shared machine).  Every parallel result is
compared with the serial one (tree and regions equal, else the script stops).  The load average
(``/proc/loadavg``) is printed before and after.

Projection to W workers, from the 1-worker run's CPU seconds: serial work ``S`` (the serial CPU
seconds), the workers' overhead per task ``w = (worker CPU - S) / tasks``, the merging thread's
work ``M`` (its CPU seconds less the frontier expansion ``T0``: decoding and merging, which grow
with the regions, not with the tasks), the scheduler's and Dask client's cost per task ``c`` (the
client process's other CPU seconds / tasks), and the longest task ``t_max``.  With ``8 W``
frontier nodes the run has ``tasks(W) = tasks + 8 (W - 1)`` tasks (each more frontier node one more
task) and the expansion takes ``W T0``; the merging thread and the scheduler share one process
(one interpreter lock): ``T(W) = W T0 + max((S + w tasks(W)) / W + t_max, M + c tasks(W))`` (list
scheduling with perfect work stealing; no network or memory limits; per-task costs the same at any
size).  The model's ``T(2)`` is printed beside the measured one.

``--transport``: the 2-worker run's tasks done in this process, and for each the pickled bytes and
CPU milliseconds of the part as Dask moves it: the objects (tree and regions, ``Fraction``\\ s
pickled as strings: the former transport) against :func:`exactrelu.parallel.part_of` (integers);
worker side the pickling (objects) or encoding and pickling (integers), client side the unpickling
(objects, without the tree walk) or unpickling and :func:`exactrelu.parallel.merge` (integers, the
walk and decoding included).  ``--rss``: the peak resident memory of a fresh process that runs the
largest network serially, and of the client of a 2-worker run (with the scheduler); with
``--stream`` also both runs writing the version-3 certificate and the shallow file as ``shallow
--stream`` does (a :class:`~exactrelu.certificate.StreamWriter` fed by the engine, or by the
cluster's merge, into files in a temporary folder; the files of the two runs are compared byte for
byte).  ``--rss-only``: only that table (no timing runs).
"""

from __future__ import annotations

import argparse
import filecmp
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import box, markdown_header, markdown_row, random_network  # noqa: E402

from exactrelu.certificate import StreamWriter  # noqa: E402
from exactrelu.parallel import dask_client, enumerate_parallel, expand_frontier, merge, part_of  # noqa: E402
from exactrelu.regions import enumerate_regions, enumerate_subtree, root_node  # noqa: E402

CASES = {"2-[16,16,16]-1": [2, 16, 16, 16, 1], "4-[8,8,8]-2": [4, 8, 8, 8, 2], "3-[32,32]-1": [3, 32, 32, 1]}


def load_average() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def serial_run(widths):
    net, domain = random_network(widths, seed=0), box(widths[0])
    wall, cpu = time.perf_counter(), time.process_time()
    result = enumerate_regions(net, domain)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def parallel_run(client, widths, split_nodes: int):
    """The result, wall seconds, client CPU seconds, worker CPU seconds (sum) and the stats."""
    net, domain = random_network(widths, seed=0), box(widths[0])
    stats: dict = {}
    before = client.run(time.process_time)
    wall, cpu = time.perf_counter(), time.process_time()
    result = enumerate_parallel(net, domain, client, split_nodes=split_nodes, stats=stats)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    after = client.run(time.process_time)
    workers = sum(t - before.get(w, 0.0) for w, t in after.items())
    return result, wall, cpu, workers, stats


def transport(widths, split_nodes: int) -> list[object]:
    """Per task: kB, worker ms, client ms for the objects and for the integers (see module doc)."""
    net, domain = random_network(widths, seed=0), box(widths[0])
    parts, todo = expand_frontier(net, domain, root_node(net, domain), 16)
    done = []
    while todo:
        node = todo.pop()
        e = enumerate_subtree(net, domain, node, max_nodes=split_nodes)
        done.append((node, e))
        todo += part_of(e, node.depth).pending
    cpu = time.process_time
    started = cpu()
    objects = [pickle.dumps((e.tree, e.regions), protocol=5) for _, e in done]
    objects_worker = cpu() - started
    started = cpu()
    for data in objects:
        pickle.loads(data)
    objects_client = cpu() - started
    started = cpu()
    integers = {node.path: pickle.dumps(part_of(e, node.depth), protocol=5) for node, e in done}
    integers_worker = cpu() - started
    started = cpu()
    fetched = {path: pickle.loads(data) for path, data in integers.items()}
    fetched.update(parts)
    merged = merge(net, domain, fetched.pop)
    integers_client = cpu() - started
    tasks = len(done)
    return [tasks, len(merged.regions),
            f"{sum(map(len, objects)) / tasks / 1e3:.1f}", f"{sum(map(len, integers.values())) / tasks / 1e3:.1f}",
            f"{1e3 * objects_worker / tasks:.1f}", f"{1e3 * integers_worker / tasks:.1f}",
            f"{1e3 * objects_client / tasks:.1f}", f"{1e3 * integers_client / tasks:.1f}",
            f"{1e6 * objects_client / len(merged.regions):.0f}", f"{1e6 * integers_client / len(merged.regions):.0f}"]


def streamed(widths, folder: str, client=None, split_nodes: int = 2000) -> None:
    """The version-3 certificate and shallow file of ``widths`` written into ``folder`` (as ``shallow
    --stream`` writes them, the header's shallow hash patched in), serially or on ``client``'s cluster."""
    net, domain = random_network(widths, seed=0), box(widths[0])
    with open(f"{folder}/s.cert.json", "w+", encoding="ascii", newline="") as cert, open(f"{folder}/s.json", "wb") as out:
        def patch(offset: int, raw: bytes) -> None:
            cert.flush()
            cert.buffer.seek(offset)
            cert.buffer.write(raw)

        writer = StreamWriter(cert, net, domain, "s.json", patch)
        if client is None:
            enumerate_regions(net, domain, sink=writer)
        else:
            enumerate_parallel(net, domain, client, split_nodes=split_nodes, sink=writer)
        writer.finish(out)


def peak(mode: str, name: str, split_nodes: int, folder: str) -> None:
    """In a fresh process: run ``name`` serially or on 2 workers (``-stream``: writing the version-3
    files into ``folder``), print the peak RSS in MB."""
    if mode == "serial":
        serial_run(CASES[name])
    elif mode == "serial-stream":
        streamed(CASES[name], folder)
    else:
        with dask_client(workers=2) as client:
            if mode == "parallel":
                parallel_run(client, CASES[name], split_nodes)
            else:
                streamed(CASES[name], folder, client, split_nodes)
    with open("/proc/self/status") as f:  # VmHWM: this process's peak (ru_maxrss keeps the parent's across exec)
        print(next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="one network name")
    parser.add_argument("--split-nodes", type=int, default=2000)
    parser.add_argument("--transport", action="store_true", help="also the transport table")
    parser.add_argument("--rss", action="store_true", help="also the peak memory of the largest network")
    parser.add_argument("--stream", action="store_true", help="--rss also for the version-3 writer (shallow --stream)")
    parser.add_argument("--rss-only", action="store_true", help="only the peak memory table")
    parser.add_argument("--peak", choices=["serial", "parallel", "serial-stream", "parallel-stream"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peak:
        return peak(args.peak, args.only, args.split_nodes, args.folder)
    cases = {k: v for k, v in CASES.items() if args.only in (None, k)}
    if args.rss_only:
        return memory(list(cases)[-1], args.split_nodes, args.stream)
    print(f"load average before: {load_average()}\n")
    measured = {}
    for name, widths in cases.items():
        result, wall, cpu = serial_run(widths)
        measured[name] = {"serial": wall, "serial cpu": cpu, "result": result}
    for workers in (1, 2):
        with dask_client(workers=workers) as client:
            for name, widths in cases.items():
                result, *run = parallel_run(client, widths, args.split_nodes)
                serial = measured[name]["result"]
                if serial.tree != result.tree or serial.regions != result.regions:
                    raise SystemExit(f"{name}: the parallel result differs from the serial one")
                measured[name][workers] = run
    after = load_average()
    markdown_header(["network", "regions", "nodes", "serial s (CPU)", "1 worker s", "2 workers s", "speed-up (2)",
                     "frontier / tasks (1; 2)", "overhead per task, wall ms (1)", "CPU: workers + client s (1; 2)",
                     "overhead per task, CPU ms (1; 2)"])
    for name, m in measured.items():
        (w1, c1, k1, s1), (w2, c2, k2, s2) = m[1], m[2]
        serial, s_cpu = m["serial"], m["serial cpu"]
        markdown_row([name, len(m["result"].regions), m["result"].nodes, f"{serial:.1f} ({s_cpu:.1f})",
                      f"{w1:.1f}", f"{w2:.1f}", f"{serial / w2:.2f}",
                      f"{s1['frontier']} / {s1['tasks']}; {s2['frontier']} / {s2['tasks']}",
                      f"{1e3 * (w1 - serial) / s1['tasks']:.1f}",
                      f"{k1:.1f} + {c1:.1f}; {k2:.1f} + {c2:.1f}",
                      f"{1e3 * (k1 + c1 - s_cpu) / s1['tasks']:.1f}; {1e3 * (k2 + c2 - s_cpu) / s2['tasks']:.1f}"])
    print(f"\nload average after: {after}\n")
    markdown_header(["network", "S s", "w ms/task", "M s", "c ms/task", "T0 s", "t_max s", "model T(2) s",
                     "measured T(2) s", "tasks(16)", "T(16) s", "tasks(128)", "T(128) s"])
    for name, m in measured.items():
        _, c1, k1, s1 = m[1]
        S, tasks = m["serial cpu"], s1["tasks"]
        w = max(0.0, k1 - S) / tasks
        t0 = s1["expand_seconds"]
        merging = max(0.0, s1["thread_cpu"] - t0)
        c = max(0.0, c1 - s1["thread_cpu"]) / tasks
        longest = max(s1["task_seconds"], default=0.0)

        def count(W: int) -> int:
            return tasks + 8 * (W - 1)

        def model(W: int) -> float:
            return W * t0 + max((S + w * count(W)) / W + longest, merging + c * count(W))

        markdown_row([name, f"{S:.1f}", f"{1e3 * w:.1f}", f"{merging:.1f}", f"{1e3 * c:.1f}", f"{t0:.2f}",
                      f"{longest:.2f}", f"{model(2):.1f}", f"{m[2][0]:.1f}", count(16), f"{model(16):.1f}",
                      count(128), f"{model(128):.1f}"])
    if args.transport:
        print()
        markdown_header(["network", "tasks", "regions", "kB/task objects", "kB/task integers",
                         "worker ms/task objects", "worker ms/task integers", "client ms/task objects",
                         "client ms/task integers", "client µs/region objects", "client µs/region integers"])
        for name, widths in cases.items():
            markdown_row([name] + transport(widths, args.split_nodes))
    if args.rss:
        print()
        memory(list(cases)[-1], args.split_nodes, args.stream)
    print(f"\nload average at the end: {load_average()}")


def memory(name: str, split_nodes: int, stream: bool) -> None:
    """The peak memory table of ``name``, each run in a fresh process (with ``stream`` also the
    version-3 runs, whose files must be byte-equal)."""
    modes = ("serial", "parallel") + (("serial-stream", "parallel-stream") if stream else ())
    here = [sys.executable, __file__, "--only", name, "--split-nodes", str(split_nodes), "--peak"]
    with tempfile.TemporaryDirectory() as tmp:
        rss = {}
        for mode in modes:
            folder = f"{tmp}/{mode}"
            Path(folder).mkdir()
            done = subprocess.run(here + [mode, "--folder", folder], capture_output=True, text=True, check=True)
            rss[mode] = float(done.stdout.split()[-1])
        if stream and not all(filecmp.cmp(f"{tmp}/serial-stream/{f}", f"{tmp}/parallel-stream/{f}", shallow=False)
                              for f in ("s.json", "s.cert.json")):
            raise SystemExit(f"{name}: the streamed files of the cluster run differ from the serial ones")
    columns = ["peak RSS serial MB", "peak RSS client (2 workers) MB"]
    if stream:
        columns += ["peak RSS serial --stream MB", "peak RSS client --stream (2 workers) MB"]
    markdown_header(["network", *columns])
    markdown_row([name, *(f"{rss[mode]:.0f}" for mode in modes)])


if __name__ == "__main__":
    main()
