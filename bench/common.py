"""What the benchmark's parts share: the functions, their Lambda-like environment, stats.

Paths and the throwaway authorizer key come from the tests' harness (``tests.harness``:
its ``registries`` and ``tokens`` modules import nothing test-only, not even pytest),
so the benchmark and the tests cannot drift apart on them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import statistics
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from floor import REGION

from toqio_local import resources
from toqio_local.template import ResolvedTemplate

BENCH = Path(__file__).resolve().parent
if str(BENCH.parent) not in sys.path:  # run as `python bench/run.py`: the repository too
    sys.path.insert(1, str(BENCH.parent))

from tests.harness.registries import ROOT, TEMPLATE  # noqa: E402
from tests.harness.tokens import throwaway_public_pem  # noqa: E402

RESULTS = ROOT / "bench-results"
SAMPLE_CREATE = ROOT / "events" / "create_customer.json"


@dataclass(frozen=True)
class Function:
    key: str  # short name used in the report
    logical_id: str  # in template.yaml
    floor_services: tuple[str, ...]  # the boto3 clients its floor creates


FUNCTIONS = {
    "customers_api": Function(
        "customers_api", "CustomersApiFunction", ("dynamodb", "secretsmanager")
    ),
    # Uses no AWS client: its target is relative to the customers API's floor.
    "authorizer": Function("authorizer", "AuthorizerFunction", ()),
    "publisher": Function("publisher", "PublisherFunction", ("events",)),
    "linker": Function("linker", "LinkerFunction", ("dynamodb", "secretsmanager")),
}


def rsa_public_pem() -> str:
    """A throwaway RSA public key (PEM): the authorizer parses it at start-up."""
    return throwaway_public_pem()


def stack(public_pem: str) -> ResolvedTemplate:
    """template.yaml with the parameter and the physical names its functions refer to."""
    result = ResolvedTemplate.read(TEMPLATE, region=REGION)
    result.parameter_values["ToqioPublicKeys"] = public_pem
    result.parameter_values["ProviderUrl"] = "https://provider.example"  # not called here
    for logical_id in ("CustomersTable",):
        result.refs[logical_id] = resources.physical_name(result, logical_id)
    for logical_id, resource in result.of_type("AWS::Events::EventBus").items():
        result.refs[logical_id] = result.resolve(resource["Properties"]["Name"])
    # The customers' secrets key is not created here: Secrets Manager's default key.
    result.attributes[("CustomerSecretsKey", "Arn")] = ""
    return result


@contextlib.contextmanager
def emulator() -> Iterator[str]:
    """moto's threaded server on a free local port, for as long as the block runs: its URL.
    (moto's state is process-wide: one emulator per run.)"""
    from moto.server import ThreadedMotoServer

    from toqio_local import moto_fixes

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto_fixes.apply()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def code_dir(stack: ResolvedTemplate, function: Function) -> Path:
    return stack.path(stack.function_property(function.logical_id, "CodeUri"))


def lambda_environment(stack: ResolvedTemplate, function: Function, home: Path) -> dict[str, str]:
    """What a Lambda container of ``function`` starts with: the runtime's variables (fake
    credentials), then the template's (Globals overlaid with the function's own).

    Nothing else from the caller's environment leaks in (no AWS_PROFILE, no ~/.aws).
    """
    memory = stack.function_property(function.logical_id, "MemorySize", 128)
    handler = stack.function_property(function.logical_id, "Handler")
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(home / "absent-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "absent-credentials"),
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "ASIABENCHFAKEKEY0000",
        "AWS_SECRET_ACCESS_KEY": "bench-fake-secret",
        "AWS_SESSION_TOKEN": "bench-fake-token",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_NAME": f"{stack.name}-{function.logical_id}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "LAMBDA_TASK_ROOT": str(code_dir(stack, function)),
        "_HANDLER": str(handler),
    }
    env.update(stack.function_environment(function.logical_id))
    return env


def sample_create_body(customer_id: str) -> dict[str, Any]:
    """The sample Create request of events/, for another customer id."""
    body = json.loads(json.loads(SAMPLE_CREATE.read_text(encoding="utf-8"))["body"])
    body["id"] = customer_id
    body["paymentProvider"]["customerId"] = f"acme-{customer_id}"
    return body


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)
