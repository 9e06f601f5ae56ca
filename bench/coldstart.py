"""Cold starts: each function's handler module imported in a fresh interpreter, beside
its floor (boto3 and the clients it needs), interleaved round by round; and, against
the AWS emulator, the customers API's first Create and first Find as their first caller
pays them (import, initialisation and the request) beside a floor that imports boto3,
creates the clients and makes the same AWS calls.

Every process gets the function's Lambda-like environment and a shared bytecode cache
(``PYTHONPYCACHEPREFIX``, warmed by one discarded run of each kind first), as a Lambda
container has the runtime's and the layer's compiled modules.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import (
    BENCH,
    FUNCTIONS,
    Function,
    code_dir,
    lambda_environment,
    median,
    sample_create_body,
)
from warm import api_event

from toqio_local.template import ResolvedTemplate

PROBE = BENCH / "coldstart_probe.py"
EXPLAIN_PROBE = BENCH / "explain_probe.py"


@dataclass
class Kind:
    """One kind of process: a function's handler, or a floor."""

    name: str
    mode: str  # function | floor | empty
    target: str  # the function's folder, or the floor's services
    env: dict[str, str]
    init_s: list[float] = field(default_factory=list)
    wall_s: list[float] = field(default_factory=list)
    import_s: list[float] = field(default_factory=list)  # floors: ``import boto3`` alone
    first_s: list[float] = field(default_factory=list)  # the first request, if one is made
    # the first request's arguments for the probe, given a customer id's tag (or none)
    request: Callable[[str], list[str]] | None = None
    modules: int = 0
    max_rss_kb: int = 0

    def argv(self, *python_flags: str, tag: str = "") -> list[str]:
        extra = self.request(tag) if self.request else []
        return [sys.executable, *python_flags, str(PROBE), self.mode, self.target, *extra]

    def run_once(self, tag: str = "warmup") -> tuple[float, float, float | None, float | None]:
        """One cold start: (init, process wall, the floor's import boto3, first request)."""
        argv = self.argv(tag=tag)
        started = time.perf_counter()
        done = subprocess.run(  # noqa: S603 - our interpreter, our probe
            argv, env=self.env, capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"cold start of {self.name} failed:\n{done.stderr}")
        reply = json.loads(done.stdout.strip().splitlines()[-1])
        if self.request and reply["status"] != 200:
            raise RuntimeError(f"first request of {self.name}: HTTP {reply['status']}")
        self.modules = reply["modules"]
        self.max_rss_kb = max(self.max_rss_kb, reply["max_rss_kb"])
        return reply["init_s"], wall, reply.get("import_s"), reply.get("first_s")

    def summary(self) -> dict[str, Any]:
        return {
            "init_ms_median": median(self.init_s) * 1000,
            "import_boto3_ms_median": median(self.import_s) * 1000 if self.import_s else None,
            "wall_ms_median": median(self.wall_s) * 1000,
            "first_request_ms_median": median(self.first_s) * 1000 if self.first_s else None,
            "first_request_ms": [round(v * 1000, 2) for v in self.first_s],
            "init_ms": [round(v * 1000, 2) for v in self.init_s],
            "wall_ms": [round(v * 1000, 2) for v in self.wall_s],
            "modules_loaded": self.modules,
            "max_rss_mb": round(self.max_rss_kb / 1024, 1),
        }


def kinds(stack: ResolvedTemplate, home: Path, pycache: Path) -> dict[str, Kind]:
    result: dict[str, Kind] = {}
    for function in FUNCTIONS.values():
        env = {**lambda_environment(stack, function, home), "PYTHONPYCACHEPREFIX": str(pycache)}
        result[function.key] = Kind(function.key, "function", str(code_dir(stack, function)), env)
        if function.floor_services:
            result[f"{function.key}_floor"] = Kind(
                f"{function.key}_floor", "floor", ",".join(function.floor_services), env
            )
    # The bare interpreter: what wall time holds besides the work measured in-process.
    api: Function = FUNCTIONS["customers_api"]
    env = {**lambda_environment(stack, api, home), "PYTHONPYCACHEPREFIX": str(pycache)}
    result["interpreter"] = Kind("interpreter", "empty", "-", env)
    return result


def first_request_kinds(
    stack: ResolvedTemplate, home: Path, pycache: Path, endpoint: str
) -> dict[str, Kind]:
    """The customers API's first Create and first Find, and their floors, against the
    emulator at ``endpoint``. Each Create is of a new customer; each Find reads the one
    that the discarded first run of its Create kind stored (the floor's, the floor's)."""
    api = FUNCTIONS["customers_api"]
    env = {
        **lambda_environment(stack, api, home),
        "PYTHONPYCACHEPREFIX": str(pycache),
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }
    folder, services = str(code_dir(stack, api)), ",".join(api.floor_services)
    inputs = home.parent / "requests"
    inputs.mkdir(exist_ok=True)

    def written(document: object) -> str:
        path = inputs / f"{uuid.uuid4().hex}.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        return str(path)

    def create(tag: str) -> list[str]:
        customer_id = f"cold-{tag}"
        return [
            written(api_event("POST", "/customers", customer_id, sample_create_body(customer_id)))
        ]

    def find(_tag: str) -> list[str]:
        return [written(api_event("GET", "/customers/cold-warmup", "cold-warmup"))]

    def floor_create(tag: str) -> list[str]:
        return ["create", written(sample_create_body(f"coldfloor-{tag}"))]

    def floor_find(_tag: str) -> list[str]:
        return ["find", "coldfloor-warmup"]

    return {
        "first_create": Kind("first_create", "function", folder, env, request=create),
        "first_create_floor": Kind(
            "first_create_floor", "floor", services, env, request=floor_create
        ),
        "first_find": Kind("first_find", "function", folder, env, request=find),
        "first_find_floor": Kind("first_find_floor", "floor", services, env, request=floor_find),
    }


def measure(
    stack: ResolvedTemplate, rounds: int, home: Path, pycache: Path, log: Any, endpoint: str
) -> dict[str, Kind]:
    """``rounds`` cold starts of every kind; each round runs every kind once, shuffled.
    The first requests go to the emulator at ``endpoint`` (its resources created)."""
    all_kinds = {
        **kinds(stack, home, pycache),
        **first_request_kinds(stack, home, pycache, endpoint),
    }
    for kind in all_kinds.values():  # compiles the bytecode cache, stores the Find's
        kind.run_once()  # customers (the Creates come first); not counted
    shuffler = random.Random(20261124)  # noqa: S311 - an order, not a secret
    for number in range(rounds):
        order = list(all_kinds.values())
        shuffler.shuffle(order)
        for kind in order:
            init_s, wall_s, import_s, first_s = kind.run_once(tag=f"{number}")
            kind.init_s.append(init_s)
            kind.wall_s.append(wall_s)
            if import_s is not None:
                kind.import_s.append(import_s)
            if first_s is not None:
                kind.first_s.append(first_s)
        log(f"  cold start round {number + 1}/{rounds}")
    return all_kinds


# --- why: -X importtime -------------------------------------------------------------


def importtime(kind: Kind) -> list[tuple[str, int, int, int]]:
    """(module, self us, cumulative us, depth) for every import the probe made."""
    done = subprocess.run(  # noqa: S603 - our interpreter, our probe
        kind.argv("-X", "importtime"), env=kind.env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"importtime of {kind.name} failed:\n{done.stderr}")
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line[len("import time:") :].split("|", 2)
        depth = (len(name) - len(name.lstrip(" "))) // 2
        rows.append((name.strip(), int(self_us), int(cumulative_us), depth))
    return rows


def explain(kind: Kind, floor: Kind | None, interpreter: Kind) -> dict[str, Any]:
    """The heaviest imports of a handler, and what it imports that its floor does not.

    Modules the bare interpreter imports at start-up are left out of both lists.
    """
    startup = {name for name, *_ in importtime(interpreter)}
    rows = [row for row in importtime(kind) if row[0] not in startup]
    heaviest = sorted((row for row in rows if row[0] != "app"), key=lambda row: -row[2])[:10]
    floor_modules = {name for name, *_ in importtime(floor)} if floor else set()
    extra_by_package: dict[str, int] = {}
    for name, self_us, _cumulative, _depth in rows:
        if name in floor_modules:
            continue
        package = "app (handler module body)" if name == "app" else name.split(".", 1)[0]
        extra_by_package[package] = extra_by_package.get(package, 0) + self_us
    app_row = next((row for row in rows if row[0] == "app"), None)
    clients = client_creation(kind) if floor else None
    return {
        "client_creation": clients,
        "importtime_total_us": app_row[2] if app_row else None,
        "handler_module_self_us": app_row[1] if app_row else None,
        "heaviest_imports": [
            {"module": name, "cumulative_us": cumulative, "self_us": self_us}
            for name, self_us, cumulative, _depth in heaviest
        ],
        "not_in_floor_by_package": [
            {"package": package, "self_us": us}
            for package, us in sorted(extra_by_package.items(), key=lambda item: -item[1])[:10]
        ],
        "floor": floor.name if floor else None,
        "floor_import_boto3_ms": median(floor.import_s) * 1000 if floor else None,
        "floor_clients_ms": median(
            [i - m for i, m in zip(floor.init_s, floor.import_s, strict=True)]
        )
        * 1000
        if floor
        else None,
    }


def client_creation(kind: Kind, runs: int = 3) -> dict[str, Any]:
    """The handler's boto3 client creation at start-up (median of ``runs`` processes)."""
    totals, services = [], []
    for _ in range(runs):
        done = subprocess.run(  # noqa: S603 - our interpreter, our probe
            [sys.executable, str(EXPLAIN_PROBE), kind.target],
            env=kind.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"explain probe of {kind.name} failed:\n{done.stderr}")
        reply = json.loads(done.stdout.strip().splitlines()[-1])
        totals.append(sum(call["ms"] for call in reply["clients"]))
        services = [call["service"] for call in reply["clients"]]
    return {"services": services, "ms_median": median(totals)}
