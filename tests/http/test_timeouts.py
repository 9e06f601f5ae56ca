"""AWS that does not answer is a 503 with ``Retry-After``, never a Lambda timeout.

A request makes several AWS calls in a row, each retried, so the customers function
keeps to a deadline taken from its Lambda context (``adapters/aws.py``): an attempt starts
only if it can end in time, a retry happens only if it can too. The proof: an endpoint
that accepts connections and never answers, the customers function run as the local
runner runs it (its own process, the template's environment and Timeout, a context
counting down from that Timeout), Create and Find both answered 503 before the Timeout,
after a bounded number of attempts.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.harness.customers import full_customer
from tests.harness.handlers import api_event
from tests.harness.registries import TEMPLATE
from toqio_connector.adapters import aws
from toqio_local import runner
from toqio_local.functions import FunctionPool
from toqio_local.template import ResolvedTemplate

FUNCTION = "CustomersApiFunction"
TABLE = "toqio-connector-CustomersTable"


def template_stack() -> ResolvedTemplate:
    stack = ResolvedTemplate.read(TEMPLATE)
    stack.refs["CustomersTable"] = TABLE  # what the runner names it when it creates it
    # the customers' secrets key, as the runner creates it (any ARN: AWS is not reached)
    stack.attributes[("CustomerSecretsKey", "Arn")] = (
        "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
    )
    return stack


# The function's Timeout, read from template.yaml.
TIMEOUT = float(template_stack().function_property(FUNCTION, "Timeout"))


class Context:
    """A Lambda context whose remaining time counts down from ``seconds``."""

    function_name = FUNCTION
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:eu-west-1:123456789012:function:{FUNCTION}"
    aws_request_id = "timeouts-1"

    def __init__(self, seconds: float) -> None:
        self._deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class SilentEndpoint:
    """Accepts TCP connections, reads what is sent, never answers."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.connections: list[socket.socket] = []
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="silent", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                connection, _ = self.server.accept()
            except TimeoutError:
                continue
            self.connections.append(connection)

    def close(self) -> None:
        self._closing.set()
        self._thread.join()
        self.server.close()
        for connection in self.connections:
            connection.close()


@pytest.fixture
def silent():
    endpoint = SilentEndpoint()
    yield endpoint
    endpoint.close()


def assert_unavailable(reply: dict[str, Any]) -> None:
    assert reply["statusCode"] == 503, reply
    headers = {k.lower(): v for k, v in (reply.get("headers") or {}).items()}
    for name, values in (reply.get("multiValueHeaders") or {}).items():
        headers.setdefault(name.lower(), ", ".join(values))
    assert int(headers["retry-after"]) >= 1
    body = json.loads(reply["body"])
    assert (body["code"], body["httpStatus"]) == ("SERVICE_UNAVAILABLE", 503)


def test_a_silent_aws_endpoint_is_503_before_the_function_times_out(silent):
    """Create and Find side by side, each in its own container, as `make run` runs them."""
    spec = runner.function_spec(template_stack(), FUNCTION)
    assert spec.timeout == TIMEOUT  # the runner gives up on a reply after this long
    spec.environment.update(runner.emulator_environment(0))
    spec.environment["AWS_ENDPOINT_URL"] = silent.url
    pool = FunctionPool(spec, max_workers=2)
    pool.warm()
    pool.warm()  # two containers, started before the clock runs

    def timed(event: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        started = time.monotonic()
        reply = pool.invoke(event)  # FunctionCrashed if the function ran out of time
        return time.monotonic() - started, reply

    try:
        with ThreadPoolExecutor(2) as executor:
            create = executor.submit(timed, api_event("POST", "/customers", full_customer("c1")))
            find = executor.submit(timed, api_event("GET", "/customers/c1"))
            results = [create.result(), find.result()]
    finally:
        pool.close()
    for elapsed, reply in results:
        print(f"answered in {elapsed:.2f} s")  # for information: not what is asserted
        # Answered by the function: past the Timeout, the pool would have ended it
        # (FunctionCrashed, raised by result() above).
        assert_unavailable(reply)
    # Both did try AWS, each a bounded number of times (one attempt per connection: a
    # silent one is dropped when its read times out).
    assert 2 <= len(silent.connections) <= 2 * aws.MAX_ATTEMPTS, len(silent.connections)


def test_the_runners_context_counts_down_from_the_templates_timeout(tmp_path):
    (tmp_path / "probe.py").write_text(
        "def handler(event, context):\n    return context.get_remaining_time_in_millis()\n"
    )
    spec = runner.function_spec(template_stack(), FUNCTION)
    spec.code_dir, spec.module, spec.handler = tmp_path, "probe", "handler"
    pool = FunctionPool(spec, max_workers=1)
    try:
        remaining = pool.invoke({})
    finally:
        pool.close()
    # From the template's Timeout, not another: at most that, and not half gone yet (a
    # bound no loaded machine reaches, where a tight one would be a timing).
    assert TIMEOUT * 1000 / 2 < remaining <= TIMEOUT * 1000


def sent_to_aws() -> list[str]:
    """The operations the connector's clients send from now on: each attempt that passed
    the deadline's check and went out (to the emulator)."""
    sent: list[str] = []
    for service in ("dynamodb", "secretsmanager"):
        client = aws.client(service)  # the handler's own: one client per service
        name = client.meta.service_model.service_id.hyphenize()

        def count(request: Any, **_: Any) -> None:
            sent.append(request.headers.get("X-Amz-Target", b"").decode() or request.url)

        # first, after the deadline's own check, and before the emulator answers
        client.meta.events.register_first(f"before-send.{name}", count)
    return sent


def test_aws_calls_that_could_not_end_in_time_are_not_made(api, stack):
    """Less time left than one attempt may take: 503 without an attempt, nothing written."""
    module = api.module
    sent = sent_to_aws()
    short = aws.ATTEMPT_SECONDS + aws.RESERVE_SECONDS - 0.25
    create = module.lambda_handler(
        api.event("POST", "/customers", full_customer("c1")), Context(short)
    )
    find = module.lambda_handler(api.event("GET", "/customers/c1"), Context(short))
    assert_unavailable(create)
    assert_unavailable(find)
    assert sent == []  # not one attempt: nothing to wait for
    assert stack.raw_items() == [] and stack.secret_list() == []
    # With the function's whole Timeout ahead, the same requests go through.
    create = module.lambda_handler(
        api.event("POST", "/customers", full_customer("c1")), Context(TIMEOUT)
    )
    assert create["statusCode"] == 200, create
    assert (
        module.lambda_handler(api.event("GET", "/customers/c1"), Context(TIMEOUT))["statusCode"]
        == 200
    )
    assert sent  # and the count sees the attempts they make


def test_a_failed_attempt_is_retried_only_if_the_retry_can_end_in_time():
    """botocore's longest backoff before the second attempt is 1 s (throttling scale)."""
    enough = 1 + aws.ATTEMPT_SECONDS + aws.RESERVE_SECONDS
    with aws.invocation_deadline(Context(enough + 0.5)):
        assert aws._retry_fits(attempts=1) is None  # botocore's policy decides
        assert aws._retry_fits(attempts=2) is False  # up to 2 s of backoff: no room
    with aws.invocation_deadline(Context(enough - 0.5)):
        assert aws._retry_fits(attempts=1) is False
    assert aws._retry_fits(attempts=5) is None  # no deadline: botocore's retries unchanged
    # And the template leaves room for one call and one retry of it.
    assert aws.ATTEMPT_SECONDS + enough <= TIMEOUT
