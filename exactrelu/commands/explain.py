"""``exactrelu explain``: a point's region, its exact local linear model, and exact Shapley values
(:mod:`exactrelu.explain`)."""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import json
import sys
from fractions import Fraction
from typing import Callable, Iterable, Iterator

from ..errors import InputError
from ..rationals import format_rational
from .console import Console
from ..explain import affine_text
from .options import add_domain_options, add_model_options, add_quiet, domain_from_args, domain_inputs, positive_int, read_model

SUMMARY = "explain a point: its region, its exact local linear model, and exact Shapley values"
EXAMPLE = "exactrelu explain net.json --x 1/2,3 --background background.csv --json"
BATCH_CHUNK = 1000  # points per chunk of --batch


def configure(parser: argparse.ArgumentParser) -> None:
    from ..explain import MAX_EXACT_FEATURES, METHODS, ModularShapley

    parser.add_argument("model", help="network file (.json, .npz, .onnx, .pt/.pth, .nnet)")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--x", help="the point, comma-separated rationals such as 1/2,3")
    where.add_argument("--points", metavar="FILE.csv", help="batch mode: one point per row (no header)")
    parser.add_argument("--batch", action="store_true",
                        help="with --points: stream the file in chunks of --chunk points (memory bounded by the chunk); "
                             "with -o the results go to a temporary file renamed into place at the end")
    parser.add_argument("--chunk", type=positive_int, default=BATCH_CHUNK, metavar="N",
                        help=f"points per chunk of --batch (default {BATCH_CHUNK})")
    parser.add_argument("--progress", action="store_true",
                        help="show the progress of a batch on stderr even when it is not a terminal")
    ref = parser.add_mutually_exclusive_group()
    ref.add_argument("--background", metavar="FILE.csv",
                     help="background set B: one point per row, no header (default: the single point 0)")
    ref.add_argument("--baseline", help="a single baseline point b (also reports alpha_i (x_i - b_i))")
    add_domain_options(parser, box_help="domain box LO:HI,LO:HI,... (points must lie in the domain)")
    parser.add_argument("--json", action="store_true", help="JSON output (batch mode: CSV without it)")
    parser.add_argument("-o", "--output", help="write the result to this file instead of stdout")
    parser.add_argument("--method", choices=METHODS, default="auto",
                        help="how f is evaluated at the hybrid points (auto = modular, all points in one batch, "
                             f"up to {ModularShapley.MAX_FEATURES} features; deep above)")
    parser.add_argument("--max-features", type=positive_int, default=MAX_EXACT_FEATURES, metavar="N",
                        help=f"refuse exact values above N features (default {MAX_EXACT_FEATURES})")
    parser.add_argument("--samples", type=positive_int, metavar="N",
                        help="above the feature limit, a sampled estimate from N permutations (APPROXIMATE)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of --samples (default 0)")
    parser.add_argument("--no-fast-path", action="store_true", help="always compute all coalitions")
    add_model_options(parser, positional=None)
    add_quiet(parser, "no notes on stderr")


def _check_inside(domain, point, what: str) -> None:
    if not domain.contains(point):
        raise InputError(f"{what} ({', '.join(format_rational(v) for v in point)}) is outside the domain {domain.describe()}")


def run(args: argparse.Namespace) -> int:
    from ..io.output import Outputs

    if args.batch and args.points is None:
        raise InputError("--batch: needs --points FILE.csv (the points to stream)")
    console = Console(args.quiet, progress=args.progress)
    with Outputs(inputs=[args.model, *domain_inputs(args), args.points, args.background]) as outputs:
        target = outputs.add(args.output) if args.output else None
        outputs.open()
        _explain(args, console, outputs, target)
    return 0


def _explain(args: argparse.Namespace, console: Console, outputs, target) -> None:
    from ..explain import ZERO, Explainer, IntegerNetwork, RegionLookup, explain_point, iter_points_csv, read_points_csv
    from ..rationals import parse_vector

    loaded = read_model(args.model, args, console)
    net = loaded.network
    n = net.input_dim
    domain = domain_from_args(args, loaded.network.input_dim, loaded)
    if args.x is not None:
        points = [net.coerce_point(parse_vector(args.x, "--x"), "--x")]
        _check_inside(domain, points[0], "--x: the point")
    else:  # every point is read and checked before any is explained (a bad file: one line, no output)
        points = []
        for k, p in enumerate(iter_points_csv(args.points, n, "points")):
            _check_inside(domain, p, f"{args.points}: point {k + 1}")
            if not args.batch:
                points.append(p)
        total = k + 1
    baseline = None
    if args.background:
        background = read_points_csv(args.background, n, "background")
        for k, b in enumerate(background):
            _check_inside(domain, b, f"{args.background}: background point {k + 1} (line {k + 1})")
        desc = f"{len(background)} points from {args.background}"
    else:
        if args.baseline:
            baseline = net.coerce_point(parse_vector(args.baseline, "--baseline"), "--baseline")
            desc = f"the baseline ({', '.join(format_rational(v) for v in baseline)})"
        else:
            baseline = tuple([ZERO] * n)
            desc = "the single point 0 (default; give --background or --baseline)"
        background = [baseline]
    evaluator = IntegerNetwork(net)
    lookup = None
    if args.method == "regions":
        from ..regions import enumerate_regions
        from ..shallow import build_shallow

        e = enumerate_regions(net, domain)
        lookup = RegionLookup(build_shallow(e), evaluator)
        console.note(f"note: region lookup over {len(e.regions)} regions of {domain.describe()} "
                     f"(enumerated in {e.seconds:.2f} s)")
    explainer = Explainer(net, background, method=args.method, max_features=args.max_features, samples=args.samples,
                          seed=args.seed, fast_path=not args.no_fast_path, evaluator=evaluator, lookup=lookup)

    def explained(chunk: list, done: int, total: int) -> list[dict]:
        items = []
        for p, r in zip(chunk, explainer.explain_many(chunk)):
            items.append(explain_point(explainer, p, baseline=baseline if args.baseline else None, domain=domain,
                                       result=r))
            if total > 1:
                console.count(done + len(items), total)
        return items

    write = target.write if target is not None else sys.stdout.write
    if args.x is not None:
        item = explained(points, 0, 1)[0]
        fast, approx, count = int(item["fast_path"]), int(not item["exact"]), 1
        write((json.dumps(item, indent=1) if args.json else text_report(item, net, desc)) + "\n")
    else:
        chunks = (_chunks(iter_points_csv(args.points, n, "points"), args.chunk) if args.batch else [points])
        fast, approx, count = _write_batch(chunks, total, explained, write, args.json, desc, n,
                                           args.samples is not None and n > args.max_features)
        console.end_progress()
    if target is not None:
        outputs.commit()
        console.note(f"wrote {args.output}")
    console.note(f"one-region fast path applied to {fast} of {count} point{'s' * (count != 1)}"
                 + (f"; {approx} APPROXIMATE (sampled) result{'s' * (approx != 1)}" if approx else ""))


def _chunks(points: Iterator, size: int) -> Iterator[list]:
    """``points`` in lists of ``size`` (the last one shorter)."""
    while chunk := list(itertools.islice(points, size)):
        yield chunk


def _write_batch(chunks: Iterable[list], total: int, explained: Callable[[list, int, int], list[dict]],
                 write: Callable[[str], object], as_json: bool, desc: str, n: int, may_sample: bool) -> tuple[int, int, int]:
    """Explain the points chunk by chunk and write each chunk's results as soon as it is done: CSV
    rows (:func:`csv_rows`, the header first) or one JSON object whose ``items`` are written one by
    one and whose counts follow them.  Returns the counts (fast path, approximate, points)."""
    fast = approx = done = 0
    if as_json:
        write(f'{{\n "background": {json.dumps(desc)},\n "items": [\n')
    else:
        write(_csv_text([csv_head(n, may_sample)]))
    for chunk in chunks:
        items = explained(chunk, done, total)
        fast += sum(it["fast_path"] for it in items)
        approx += sum(not it["exact"] for it in items)
        if as_json:
            write((",\n" if done else "") + ",\n".join(json.dumps(it, indent=1) for it in items))
        else:
            write(_csv_text(csv_rows(items, done + 1)))
        done += len(items)
    if as_json:
        write(f'\n ],\n "points": {done},\n "fast_path_applied": {fast}\n}}\n')
    return fast, approx, done


def _csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def text_report(item: dict, net, background_desc: str) -> str:
    n, m = net.input_dim, net.output_dim
    names = [f"x{i + 1}" for i in range(n)]
    F = Fraction
    lines = [f"x = ({', '.join(item['x'])})    f(x) = ({', '.join(item['output'])})"]
    reg = item["region"]
    pattern = " | ".join("".join(map(str, layer)) for layer in reg["pattern"]) or "(no hidden neurons)"
    lines.append(f"region: pattern {pattern} ({'full-dimensional' if reg['full_dimensional'] else 'lower-dimensional'})")
    conds = [f"{affine_text([F(a) for a in c['w']], F(c['b']), names)} {c['rel']} 0" for c in reg["conditions"]]
    lines += [f"  {c}" for c in conds] or ["  (no conditions)"]
    alpha = [[F(v) for v in row] for row in item["local_model"]["alpha"]]
    beta = [F(v) for v in item["local_model"]["beta"]]
    lines.append("local model:")
    lines += [f"  y{o + 1} = {affine_text(alpha[o], beta[o], names)}" for o in range(m)]
    def cell(text: str) -> str:  # the exact value, and a decimal reading when it is not an integer
        return text if "/" not in text else f"{text} (~{float(Fraction(text)):.6g})"

    tables = [item["contributions"], item.get("contributions_from_baseline", []),
              item.get("shapley", item.get("shapley_approximate"))]
    width = max(12, *(len(cell(v)) for rows in tables for row in rows for v in row))
    header = "  feature  " + "".join(f"{'y' + str(o + 1):>{width + 2}}" for o in range(m))

    def table(title: str, rows: list) -> None:
        lines.append(title)
        lines.append(header)
        for i, row in enumerate(rows):
            lines.append(f"  {names[i]:<8} " + "".join(f"{cell(v):>{width + 2}}" for v in row))

    table("contributions alpha_i x_i:", item["contributions"])
    if "contributions_from_baseline" in item:
        table(f"contributions alpha_i (x_i - b_i), baseline b = ({', '.join(item['baseline'])}):",
              item["contributions_from_baseline"])
    if "shapley" in item:
        how = ("one-region fast path: phi_i = alpha_i (x_i - mean b_i)" if item["fast_path"]
               else f"all {2 ** n} coalitions, {item['method']} evaluation")
        table(f"Shapley values (exact, interventional; background {background_desc}; {how}):", item["shapley"])
    else:
        table(f"Shapley values APPROXIMATE (sampled estimate, {item['samples']} permutations; background "
              f"{background_desc}):", item["shapley_approximate"])
    eff = item["efficiency"]
    lines.append(f"efficiency: sum phi = ({', '.join(eff['sum_shapley'])}) = f(x) - mean f(b) = "
                 f"({', '.join(eff['f_x'])}) - ({', '.join(eff['mean_f_background'])}) exactly")
    return "\n".join(lines)


CSV_HEAD = ("point", "output", "f_x", "mean_f_background")


def csv_head(n: int, approximate: bool) -> list[str]:
    """The CSV header; the value columns say ``_approximate`` when the request may sample
    (``--samples`` above the feature limit), whatever each point turns out to need."""
    values = [f"phi_x{i + 1}_approximate" if approximate else f"phi_x{i + 1}" for i in range(n)]
    return [*CSV_HEAD, *values, "pattern", "fast_path", "exact"]


def csv_rows(items: list[dict], first: int = 1) -> list[list[str]]:
    """One row per point and output; points numbered from ``first``."""
    rows = []
    for p, it in enumerate(items, start=first):
        values = it.get("shapley", it.get("shapley_approximate"))
        pattern = "|".join("".join(map(str, layer)) for layer in it["region"]["pattern"])
        for o in range(len(it["output"])):
            rows.append([str(p), str(o + 1), it["efficiency"]["f_x"][o], it["efficiency"]["mean_f_background"][o],
                         *(row[o] for row in values), pattern, str(it["fast_path"]).lower(),
                         "true" if it["exact"] else "false (APPROXIMATE)"])
    return rows
