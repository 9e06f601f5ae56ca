"""``make bench``: cold starts, warm latency and AWS calls per operation, against floors.

Run with the project's interpreter from anywhere: ``.venv/bin/python bench/run.py``.
Prints a table (figure, value, floor, ratio, target, met?) and writes the same, with
the raw samples and the machine, to ``bench-results/latest.json``.

1. Cold start as the first caller pays it (the headline): in a fresh interpreter, the
   customers API's import, initialisation and first Create (or first Find) against the
   AWS emulator, beside a floor process that imports boto3, creates the same clients
   and makes the same AWS calls. As a breakdown, each function's handler module
   imported alone beside its floor (boto3 and the clients it needs). Every kind runs
   once per round, interleaved; time measured inside the process, and its wall time.
2. Warm: Create and Find through the customers API handler against moto's server, each
   call paired with the same AWS calls made with plain boto3.
3. AWS calls per operation, counted with botocore event hooks.
4. The slowest answer to a hostile body of up to 64 KiB (the validation-bounds tests'),
   over HTTP to the local runner, quiet and beside two CPU-bound processes, against the
   second every such body is promised (``bodies.py``). ``--bodies-only``: just this.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import bodies
import coldstart
import warm
from common import REGION, RESULTS, emulator, median, rsa_public_pem, stack

FIRST_REQUEST_TARGET = 1.15  # import, initialisation and first request, against the floor's
COLD_TARGETS = {  # function -> (floor it is compared with, max ratio); import alone
    "customers_api": ("customers_api_floor", None),  # a breakdown of the first requests
    "authorizer": ("customers_api_floor", 0.35),
    "publisher": ("publisher_floor", 1.25),
    "linker": ("linker_floor", 1.35),
}
WARM_TARGET = 1.10
LABELS = {
    "customers_api": "customers API",
    "authorizer": "authorizer",
    "publisher": "publisher",
    "customers_api_floor": "customers API floor (boto3 + dynamodb + secretsmanager)",
    "publisher_floor": "publisher floor (boto3 + events)",
    "linker": "linker",
    "linker_floor": "linker floor (boto3 + dynamodb + secretsmanager)",
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "Hardware", "cpu model"):
                model = value.strip()
                break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "cpu_count": os.cpu_count(),
        "cpu_model": model or platform.processor() or "unknown",
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def row(
    figure: str,
    value: float,
    floor: float | None,
    unit: str,
    target: float | None = None,
    *,
    exact: bool = False,
    note: str = "",
) -> dict[str, Any]:
    """One line of the table. ``target`` is a max ratio, or (``exact``) the count wanted."""
    ratio = value / floor if floor else None
    if target is None:
        met = None
        target_text = "-"
    elif exact:
        met = value <= target
        target_text = f"<= {target:g}"
    else:
        met = ratio is not None and ratio <= target
        target_text = f"<= {target:.2f}x"
    return {
        "figure": figure,
        "value": round(value, 3),
        "floor": round(floor, 3) if floor is not None else None,
        "unit": unit,
        "ratio": round(ratio, 3) if ratio is not None else None,
        "target": target_text,
        "met": met,
        "note": note,
    }


def first_request_rows(kinds: dict[str, coldstart.Kind]) -> list[dict[str, Any]]:
    """The headline: what the first caller of a fresh container pays, against the floor."""
    rows = []
    for operation in ("create", "find"):
        kind, floor = kinds[f"first_{operation}"], kinds[f"first_{operation}_floor"]
        total = [i + f for i, f in zip(kind.init_s, kind.first_s, strict=True)]
        floor_total = [i + f for i, f in zip(floor.init_s, floor.first_s, strict=True)]
        paired = median([a / b for a, b in zip(total, floor_total, strict=True)])
        init, floor_init = median(kind.init_s) * 1000, median(floor.init_s) * 1000
        first, floor_first = median(kind.first_s) * 1000, median(floor.first_s) * 1000
        rows.append(
            row(
                f"cold start + first {operation.capitalize()}, customers API",
                median(total) * 1000,
                median(floor_total) * 1000,
                "ms",
                FIRST_REQUEST_TARGET,
                note=f"import+init {init:.0f} vs {floor_init:.0f} ms ({init / floor_init:.2f}x),"
                f" first request {first:.0f} vs {floor_first:.0f} ms"
                f" ({first / floor_first:.2f}x); paired-round ratio {paired:.2f}x;"
                " floor: import boto3, dynamodb + secretsmanager clients, the same AWS calls",
            )
        )
    return rows


def cold_rows(kinds: dict[str, coldstart.Kind]) -> list[dict[str, Any]]:
    rows = first_request_rows(kinds)
    for name, (floor_name, target) in COLD_TARGETS.items():
        kind, floor = kinds[name], kinds[floor_name]
        paired = median([f / b for f, b in zip(kind.init_s, floor.init_s, strict=True)])
        rows.append(
            row(
                f"cold start {LABELS[name]}, in-process",
                median(kind.init_s) * 1000,
                median(floor.init_s) * 1000,
                "ms",
                target,
                note=f"vs {LABELS[floor_name]}; paired-round ratio {paired:.2f}x",
            )
        )
        rows.append(
            row(
                f"cold start {LABELS[name]}, process wall",
                median(kind.wall_s) * 1000,
                median(floor.wall_s) * 1000,
                "ms",
                note="informative; includes interpreter start-up",
            )
        )
    interpreter = kinds["interpreter"]
    rows.append(
        row(
            "cold start bare interpreter, process wall",
            median(interpreter.wall_s) * 1000,
            None,
            "ms",
            note="python start-up alone (in both walls)",
        )
    )
    return rows


def warm_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    latency = result["latency"]
    rows = []
    for operation, label in (("create", "Create"), ("find", "Find")):
        pairs = zip(
            latency[operation]["samples_ms"],
            latency[f"{operation}_floor"]["samples_ms"],
            strict=True,
        )
        paired = median([handler / floor for handler, floor in pairs])
        for quantile in ("p50", "p99"):
            handler = latency[operation][f"{quantile}_ms"]
            floor = latency[f"{operation}_floor"][f"{quantile}_ms"]
            rows.append(
                row(
                    f"warm {label} {quantile}",
                    handler,
                    floor,
                    "ms",
                    WARM_TARGET,
                    note=f"n={latency[operation]['n']}; overhead {handler - floor:+.2f} ms"
                    + (f"; median per-pair ratio {paired:.2f}x" if quantile == "p50" else ""),
                )
            )
    return rows


def layer_row() -> dict[str, Any]:
    """The Lambda layer's size: its packages as installed here (the arm64 build differs a
    little; `make build` makes the real one in .aws-sam/build/ConnectorLayer)."""
    from importlib.metadata import distribution

    requirements = Path(__file__).resolve().parents[1] / "layers/connector/requirements.txt"
    names = [
        line.split("==")[0].strip()
        for line in requirements.read_text("utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    total = 0
    for name in names:
        for file in distribution(name).files or []:
            located = Path(str(file.locate()))
            total += located.stat().st_size if located.is_file() else 0
    return row(
        "Lambda layer, installed size",
        round(total / 1e6, 1),
        None,
        "MB",
        note=f"{len(names)} packages of layers/connector/requirements.txt (pycountry no longer)",
    )


def linker_rows(counts: dict[str, Any]) -> list[dict[str, Any]]:
    seen = counts.get("linker_per_event")
    if seen is None:
        return []
    ops = ", ".join(f"{op.split('.', 1)[1]} {n}" for op, n in seen["by_operation"].items())
    return [
        row(
            "linker AWS calls per event (GetItem, GetSecretValue, UpdateItem)",
            seen["calls"],
            3,
            "calls",
            3,
            exact=True,
            note=f"{ops}; plus one HTTPS call to the provider; logs {seen['log_bytes']} B",
        )
    ]


def call_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    counts = result["counts"]

    def ops(seen: dict[str, Any]) -> str:
        return ", ".join(f"{op.split('.', 1)[1]} {n}" for op, n in seen["by_operation"].items())

    create, replay, find = counts["create"], counts["create_replay"], counts["find"]
    batch10, batch1 = counts["publisher_batch_10"], counts["publisher_batch_1"]

    def put_events(seen: dict[str, Any]) -> int:
        return sum(n for op, n in seen["by_operation"].items() if op.endswith(".PutEvents"))

    return [
        row(
            "AWS calls per Create (happy path)",
            max(create["calls_each"]),
            2,
            "calls",
            2,
            exact=True,
            note=f"{ops(create)}; mean over warm loop {counts['create_loop_mean']:.2f};"
            f" item {counts['item_bytes']} B; logs {create['log_bytes']} B",
        ),
        row(
            "AWS calls per Create replay",
            replay["calls"],
            None,
            "calls",
            note=f"{ops(replay)}; logs {replay['log_bytes']} B",
        ),
        row(
            "AWS calls per Find",
            find["calls"],
            1,
            "calls",
            1,
            exact=True,
            note=f"{ops(find)}; mean over warm loop {counts['find_loop_mean']:.2f};"
            f" logs {find['log_bytes']} B",
        ),
        row(
            "publisher PutEvents per batch of 10 changes",
            put_events(batch10),
            1,
            "calls",
            1,
            exact=True,
            note=f"{batch10['put_events_entries']} entries (largest Detail"
            f" {counts['largest_event_detail_bytes']} B); logs {batch10['log_bytes']} B",
        ),
        *linker_rows(counts),
        row(
            "publisher PutEvents per batch of 1 change",
            put_events(batch1),
            1,
            "calls",
            1,
            exact=True,
            note=f"{batch1['put_events_entries']} entry; logs {batch1['log_bytes']} B",
        ),
    ]


def body_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The slowest hostile-body answer, quiet and under load: the refused ones (the
    validation's own work, nothing written) against the promised second; the accepted
    ones beside them, whose time is mostly the emulator's (moto) writes of up to 64 KiB
    to Secrets Manager and DynamoDB, milliseconds on AWS."""
    rows = []
    for condition, label in (("quiet", "quiet"), ("loaded", f"beside {result['hogs']} CPU hogs")):
        for kind, target in (("refused", bodies.TARGET_MS), ("accepted", None)):
            seen = result[condition][kind]
            note = f"{seen['slowest_body']} ({seen['slowest_body_bytes']} B)"
            if "requests" in seen:
                note += (
                    f"; of the 60-64 KiB bodies {seen['slowest_60_64_kib_ms']:.0f} ms"
                    f" ({seen['slowest_60_64_kib_body']}); {seen['requests']} requests"
                )
            if kind == "accepted":
                note += "; includes the emulator's writes (moto), not a product target"
            rows.append(
                row(
                    f"slowest {kind} hostile body <= 64 KiB, {label}",
                    seen["slowest_ms"],
                    None,
                    "ms",
                    target,
                    exact=True,
                    note=note,
                )
            )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    def number(value: Any) -> str:
        if value is None:
            return "-"
        return f"{value:g}" if float(value).is_integer() else f"{value:.2f}"

    header = ("figure", "value", "floor", "ratio", "target", "met?", "note")
    lines = [
        (
            item["figure"],
            f"{number(item['value'])} {item['unit']}",
            f"{number(item['floor'])} {item['unit']}" if item["floor"] is not None else "-",
            f"{item['ratio']:.2f}x" if item["ratio"] is not None else "-",
            item["target"],
            {True: "yes", False: "NO", None: "-"}[item["met"]],
            item["note"],
        )
        for item in rows
    ]
    widths = [max(len(str(line[i])) for line in [header, *lines]) for i in range(len(header) - 1)]
    text = []
    for line in [header, *lines]:
        cells = [str(cell).ljust(width) for cell, width in zip(line, widths, strict=False)]
        text.append("  ".join([*cells, str(line[-1])]).rstrip())
        if line is header:
            text.append("  ".join("-" * width for width in widths) + "  ----")
    return "\n".join(text)


def explanations(kinds: dict[str, coldstart.Kind], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """For each cold start over its target: -X importtime of the handler vs its floor."""
    result = {}
    for name, (floor_name, _target) in COLD_TARGETS.items():
        cold_row = next(r for r in rows if r["figure"] == f"cold start {LABELS[name]}, in-process")
        headline = [r for r in rows if r["figure"].startswith("cold start + first")]
        if cold_row["met"] or (cold_row["met"] is None and all(r["met"] for r in headline)):
            continue
        # The authorizer needs no client: compare with the bare interpreter instead.
        floor = kinds[floor_name] if name != "authorizer" else None
        result[name] = coldstart.explain(kinds[name], floor, kinds["interpreter"])
    return result


# What the fixed stack imports (pydantic for the models, Powertools for the event handler,
# logging and metrics) and the floor does not: the part of the gap no change of ours cuts.
STACK_PACKAGES = (
    "pydantic",
    "pydantic_core",
    "annotated_types",
    "typing_extensions",
    "typing_inspection",
    "aws_lambda_powertools",
    "asyncio",  # imported by Powertools' event_handler package
)


def print_bound(kinds: dict[str, coldstart.Kind], why: dict[str, Any]) -> None:
    """Where the first requests' gap to their floor goes: start-up or the request; and
    the least ratio the stack allows (its own imports on top of the floor)."""
    for operation in ("create", "find"):
        kind, floor = kinds[f"first_{operation}"], kinds[f"first_{operation}_floor"]
        init = (median(kind.init_s) - median(floor.init_s)) * 1000
        first = (median(kind.first_s) - median(floor.first_s)) * 1000
        total = median(kind.init_s) + median(kind.first_s)
        floor_total = median(floor.init_s) + median(floor.first_s)
        print(
            f"first {operation.capitalize()}: {total * 1000:.0f} ms against the floor's"
            f" {floor_total * 1000:.0f} ms ({total / floor_total:.2f}x); of the {init + first:+.0f}"
            f" ms, import and initialisation {init:+.0f} ms, the request itself {first:+.0f} ms"
        )
    explained = why.get("customers_api")
    if explained:
        fixed = explained["not_in_floor_by_package"]
        fixed_ms = sum(item["self_us"] for item in fixed if item["package"] in STACK_PACKAGES)
        fixed_ms /= 1000
        floor = median(kinds["first_create_floor"].init_s) * 1000
        floor += median(kinds["first_create_floor"].first_s) * 1000
        print(
            f"bound: pydantic and Powertools (the stack) import ~{fixed_ms:.0f} ms the floor"
            f" does not (-X importtime, inflated): ~{(floor + fixed_ms) / floor:.2f}x is the"
            " least a first Create can be here; SnapStart (template parameter) takes the"
            " imports off the first caller's path"
        )


def print_explanations(found: dict[str, Any]) -> None:
    for name, info in found.items():
        print(f"\nWhy the {LABELS[name]} cold start misses its target (python -X importtime,")
        print("microseconds, inflated by importtime's own overhead; start-up imports left out):")
        print(
            f"  handler import total {info['importtime_total_us']} us, of which the handler"
            f" module's own body (module-level init) {info['handler_module_self_us']} us"
        )
        clients = info["client_creation"]
        if clients:
            print(
                f"  boto3 clients created at start-up: {', '.join(clients['services'])}"
                f" in {clients['ms_median']:.0f} ms (one factory call each), against"
                f" {info['floor_clients_ms']:.0f} ms for the floor's (one session);"
                f" the floor's import boto3: {info['floor_import_boto3_ms']:.0f} ms"
            )
        print("  heaviest imports (cumulative us):")
        for item in info["heaviest_imports"]:
            print(f"    {item['cumulative_us']:>9}  {item['module']}")
        versus = f"not imported by {LABELS[info['floor']]}" if info["floor"] else "all imports"
        print(f"  {versus}, self us summed per top-level package:")
        for item in info["not_in_floor_by_package"]:
            print(f"    {item['self_us']:>9}  {item['package']}")


@contextlib.contextmanager
def aws_emulator(the_stack: Any) -> Iterator[str]:
    """The emulator, holding the stack's resources (table, bus, queues): its URL."""
    import boto3

    from toqio_local import resources

    fake = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
    with emulator() as endpoint:
        aws = {**fake, "AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": REGION}
        with mock.patch.dict(os.environ, aws):  # what create_all's clients read
            resources.create_all(the_stack, boto3.session.Session())
        yield endpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=15, help="cold starts of each kind (>= 9)")
    parser.add_argument("--iterations", type=int, default=600, help="warm pairs per operation")
    parser.add_argument("--warmup", type=int, default=30, help="warm pairs discarded first")
    parser.add_argument("--body-rounds", type=int, default=3, help="passes over the bodies")
    parser.add_argument(
        "--bodies-only",
        action="store_true",
        help="only the hostile bodies' answers (written to bench-results/bodies.json)",
    )
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    if args.rounds < 9:
        parser.error("--rounds: at least 9 cold starts of each kind")
    if args.bodies_only:
        bodies_only(args.body_rounds, args.output or RESULTS / "bodies.json")
        return
    output = args.output or RESULTS / "latest.json"
    started = time.monotonic()
    when = datetime.now(UTC)
    about = machine()
    the_stack = stack(rsa_public_pem())
    with (
        tempfile.TemporaryDirectory(prefix="toqio-bench-") as scratch,
        aws_emulator(the_stack) as endpoint,
    ):
        home, pycache = Path(scratch) / "home", Path(scratch) / "pycache"
        home.mkdir()
        log(f"cold starts: {args.rounds} rounds of 11 processes, interleaved")
        kinds = coldstart.measure(the_stack, args.rounds, home, pycache, log, endpoint)
        rows = cold_rows(kinds)
        log("explaining missed cold-start targets (-X importtime)")
        why = explanations(kinds, rows)
        log(f"warm: {args.warmup} + {args.iterations} pairs each of Create and Find (moto)")
        warm_result = warm.run(the_stack, args.iterations, args.warmup, home, log, endpoint)
    rows += warm_rows(warm_result)
    rows += call_rows(warm_result)
    rows.append(layer_row())
    body_result = bodies.measure(args.body_rounds, log)
    rows += body_rows(body_result)
    elapsed = time.monotonic() - started

    print_table("", when, about, elapsed, rows)
    print()
    print_bound(kinds, why)
    print_explanations(why)

    report = {
        "date": when.isoformat(timespec="seconds"),
        "machine": about,
        "config": {
            "rounds": args.rounds,
            "iterations": args.iterations,
            "warmup": args.warmup,
            "elapsed_s": round(elapsed, 1),
            "emulator": "moto ThreadedMotoServer, in-process",
        },
        "rows": rows,
        "cold_start": {name: kind.summary() for name, kind in kinds.items()},
        "warm": warm_result,
        "cold_start_explanations": why,
        "hostile_bodies": body_result,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten: {output}")


def print_table(
    kind: str, when: datetime, about: dict[str, Any], elapsed: float, rows: list[dict[str, Any]]
) -> None:
    """The run's heading, its table, and how many of the rows with a target met it."""
    print(f"\nToqio connector benchmark{kind}, {when:%Y-%m-%d %H:%M} UTC")
    print(
        f"{about['cpu_model']}, {about['cpu_count']} CPUs, Python {about['python']},"
        f" {about['platform']}; took {elapsed:.0f} s\n"
    )
    print(table(rows))
    met = [r for r in rows if r["met"] is not None]
    print(f"\ntargets met: {sum(1 for r in met if r['met'])}/{len(met)}")


def bodies_only(rounds: int, output: Path) -> None:
    """``--bodies-only``: the hostile bodies' rows alone, in the same table."""
    started = time.monotonic()
    when = datetime.now(UTC)
    about = machine()
    result = bodies.measure(rounds, log)
    rows = body_rows(result)
    elapsed = time.monotonic() - started
    print_table(" (hostile bodies only)", when, about, elapsed, rows)
    report = {
        "date": when.isoformat(timespec="seconds"),
        "machine": about,
        "config": {"body_rounds": rounds, "elapsed_s": round(elapsed, 1)},
        "rows": rows,
        "hostile_bodies": result,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten: {output}")


if __name__ == "__main__":
    main()
