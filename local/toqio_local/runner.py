"""``make run``: the connector offline, from ``template.yaml``, with no Docker and no AWS.

* an AWS emulator (moto server) on ``AWS_PORT`` (5000) holding the template's table
  (with its stream), event bus, queues and rule;
* every function of the template in its own worker processes (Lambda containers),
  with the environment the template gives it;
* the REST API on ``API_PORT`` (3000): the template's routes, its TOKEN authorizer
  (trusting the development key in ``.local/``), and its gateway responses;
* the table's stream fed to the publisher, so events reach the bus within a second;
* the linker's queue fed to the linker, and a sandbox payment provider on
  ``SANDBOX_PORT`` (5001) that it links customers with.

SIGINT (Ctrl-C) and SIGTERM stop it, within ``STOP_SECONDS``: their handler only sets a
flag (it takes no lock, so it cannot deadlock whatever the main thread holds when the
signal lands), the main thread polls that flag, further signals change nothing, and each
part is stopped with a time limit (a part that hangs is abandoned, and the process exits
all the same).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from toqio_local import devkeys, moto_fixes, resources
from toqio_local.apidocs import DOCS_PATH, ApiDocs
from toqio_local.functions import FunctionCrashed, FunctionPool, FunctionSpec
from toqio_local.gateway import ApiGateway, serve
from toqio_local.queues import QueueRelay
from toqio_local.sandbox import REFUSED_PREFIX, SandboxProvider
from toqio_local.streams import StreamRelay
from toqio_local.template import TEMPLATE, ResolvedTemplate

REGION = "eu-west-1"
HOST = "127.0.0.1"
STOP_SECONDS = 10.0  # the longest a stop takes, all parts together
POLL_SECONDS = 0.1  # how often the main thread looks at the stop flag


def emulator_environment(aws_port: int) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": f"http://{HOST}:{aws_port}",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


class LocalConnector:
    """Everything ``make run`` serves; ``start()`` then ``stop()``."""

    def __init__(
        self,
        api_port: int = 3000,
        aws_port: int = 5000,
        sandbox_port: int = 5001,
        max_workers: int = 4,
        template: Path = TEMPLATE,
    ) -> None:
        if not template.is_file():
            raise SystemExit(f"no {template} here: run from the project's folder (make run)")
        self.api_port = api_port
        self.aws_port = aws_port
        self.sandbox_port = sandbox_port
        self.sandbox: SandboxProvider | None = None
        self.registry_source = ""
        self.retry_seconds = _seconds("LINKER_RETRY_SECONDS", 5)  # checked before start()
        self.max_workers = max_workers
        self.stack = ResolvedTemplate.read(template, region=REGION)
        self.pools: dict[str, FunctionPool] = {}
        self.relays: list[StreamRelay | QueueRelay] = []
        self._moto: Any = None
        self._http: Any = None

    def start(self) -> None:
        from toqio_connector.edge.registry_file import load_registry
        from toqio_connector.rules.registry import RegistryError

        try:  # the customers API would refuse to start: say so before anything else
            registry = load_registry(os.environ.get("CUSTOM_PARAMETERS_FILE"))
        except RegistryError as exc:
            raise SystemExit(f"cannot start: {exc}") from None
        declared = ", ".join(registry.properties) or "none"
        self.registry_source = f"{registry.source}  (custom parameters: {declared})"
        for port in (self.api_port, self.aws_port, self.sandbox_port):
            if not _port_free(port):
                raise SystemExit(
                    f"port {port} is in use (set API_PORT / AWS_PORT / SANDBOX_PORT to others)"
                )
        os.environ.update(emulator_environment(self.aws_port))
        import boto3
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per AWS call
        moto_fixes.apply()

        self._moto = ThreadedMotoServer(ip_address=HOST, port=self.aws_port, verbose=False)
        self._moto.start()
        session = boto3.session.Session()
        self.stack.parameter_values["ToqioPublicKeys"] = devkeys.public_key_pem(
            self.stack.path(str(devkeys.KEY_FILE))
        )
        # Before the functions: the linker's environment names it (PROVIDER_URL).
        self.sandbox = SandboxProvider(HOST, self.sandbox_port, verbose=True).start()
        self.stack.parameter_values["ProviderAdapter"] = "sandbox"  # http://, to loopback
        self.stack.parameter_values["ProviderUrl"] = self.sandbox.url
        resources.create_all(self.stack, session)
        self._start_functions()
        api_id = next(iter(self.stack.of_type("AWS::Serverless::Api")))
        docs = ApiDocs(os.environ.get("CUSTOM_PARAMETERS_FILE"), f"http://{HOST}:{self.api_port}")
        gateway = ApiGateway(self.stack, api_id, self.pools, docs)
        self._http = serve(gateway, HOST, self.api_port)
        self._start_relays(session)

    def _start_functions(self) -> None:
        functions = self.stack.of_type("AWS::Serverless::Function")
        for fid in functions:
            self.stack.attributes[(fid, "Arn")] = (
                f"arn:aws:lambda:{REGION}:{self.stack.account}:function:{fid}"
            )
            self.stack.refs[fid] = fid
        for fid in functions:
            pool = FunctionPool(function_spec(self.stack, fid), max_workers=self.max_workers)
            try:
                pool.warm()
            except FunctionCrashed as exc:
                self.stop()
                raise SystemExit(f"{fid} cannot start: {exc} (see its error above)") from None
            self.pools[fid] = pool

    def _start_relays(self, session: Any) -> None:
        """Feed each function its event sources, as Lambda's event source mappings do."""
        for fid, resource in self.stack.of_type("AWS::Serverless::Function").items():
            for event in resource["Properties"].get("Events", {}).values():
                if event["Type"] == "SQS":
                    self._start_queue_relay(session, fid, event["Properties"])
                elif event["Type"] == "DynamoDB":
                    self._start_stream_relay(session, fid, event["Properties"])

    def _start_stream_relay(self, session: Any, fid: str, props: dict[str, Any]) -> None:
        destination = props.get("DestinationConfig", {}).get("OnFailure", {})
        queue_url = None
        if "Destination" in destination:
            queue_id = destination["Destination"]["Fn::GetAtt"][0]
            queue_url = self.stack.refs.get(queue_id)
        relay = StreamRelay(
            session,
            self.stack.resolve(props["Stream"]),
            self.pools[fid],
            batch_size=int(props.get("BatchSize", 100)),
            max_retries=int(props.get("MaximumRetryAttempts", 10)),
            failure_queue_url=queue_url,
            starting_position=props.get("StartingPosition", "TRIM_HORIZON"),
        )
        relay.start()
        self.relays.append(relay)

    def _start_queue_relay(self, session: Any, fid: str, props: dict[str, Any]) -> None:
        """The queue's messages to ``fid``; a failed one comes back after
        ``LINKER_RETRY_SECONDS`` (5), not the deployed queue's visibility timeout."""
        queue_id = props["Queue"]["Fn::GetAtt"][0]
        relay = QueueRelay(
            session,
            self.stack.attributes[(queue_id, "QueueUrl")],
            self.pools[fid],
            batch_size=int(props.get("BatchSize", 10)),
            retry_seconds=self.retry_seconds,
        )
        relay.start()
        self.relays.append(relay)

    def stop(self, timeout: float | None = None) -> bool:
        """Stop every part (again: nothing more happens); False if some part did not stop
        within ``timeout`` (``STOP_SECONDS``) and was abandoned."""
        deadline = time.monotonic() + (STOP_SECONDS if timeout is None else timeout)
        steps: list[Callable[[], Any]] = [relay.stop for relay in self.relays]
        if self._http is not None:  # shutdown() waits forever if serve_forever never ran
            steps += [self._http.shutdown, self._http.server_close]
        steps += [pool.close for pool in self.pools.values()]
        if self.sandbox is not None:
            steps.append(self.sandbox.stop)
        if self._moto is not None:
            steps.append(self._moto.stop)
        self.relays, self.pools, self._http, self._moto = [], {}, None, None
        self.sandbox = None
        stopped = [_within(step, deadline) for step in steps]
        return all(stopped)

    def describe(self) -> str:
        stack = self.stack
        lines = [
            "Toqio connector running offline (Ctrl-C stops it)",
            f"  API            http://{HOST}:{self.api_port}"
            "  (POST /customers, GET /customers/{id}, GET /customers/{id}/connectionStatus)",
            f"  API reference  http://{HOST}:{self.api_port}{DOCS_PATH}  (Swagger UI, offline)",
            f"  registry       {self.registry_source}",
            f"  provider       http://{HOST}:{self.sandbox_port}"
            f'  (sandbox: refuses a loginId beginning "{REFUSED_PREFIX}")',
            f"  AWS emulator   http://{HOST}:{self.aws_port}  (region {REGION}, any credentials)",
        ]
        for lid in stack.of_type("AWS::DynamoDB::Table"):
            lines.append(f"  table          {stack.refs[lid]} (stream -> publisher)")
        for lid in stack.of_type("AWS::Events::EventBus"):
            lines.append(f"  event bus      {stack.refs[lid]}")
        lines += self._queue_lines()
        lines += [
            f"  secrets        {stack.parameter('SecretNamePrefix')}<customer id>/secrets",
        ]
        for lid in stack.of_type("AWS::KMS::Alias"):
            lines.append(f"  secrets key    {stack.refs[lid]}")
        lines += [
            f"  signing key    {self.stack.path(str(devkeys.KEY_FILE))}",
            "  token          make token CUSTOMER_ID=<id>",
        ]
        return "\n".join(lines)

    def _queue_lines(self) -> list[str]:
        """The banner's queues, each with the function it feeds, and the rules."""
        stack, fed = self.stack, {}
        for fid, resource in stack.of_type("AWS::Serverless::Function").items():
            for event in resource["Properties"].get("Events", {}).values():
                if event["Type"] == "SQS":
                    fed[event["Properties"]["Queue"]["Fn::GetAtt"][0]] = fid
        lines = []
        for lid in stack.of_type("AWS::SQS::Queue"):
            note = (
                f" (-> {fed[lid]}; a failed message again after {self.retry_seconds} s)"
                if lid in fed
                else ""
            )
            lines.append(f"  queue          {stack.attributes[(lid, 'QueueName')]}{note}")
        for lid, resource in stack.of_type("AWS::Events::Rule").items():
            targets = ", ".join(
                str(stack.resolve(t["Arn"])).rsplit(":", 1)[-1]
                for t in resource["Properties"].get("Targets", [])
            )
            lines.append(f"  rule           {stack.refs[lid]} (-> {targets})")
        return lines


def function_spec(stack: ResolvedTemplate, fid: str) -> FunctionSpec:
    """How the template runs function ``fid``: code, handler, environment, timeout."""
    module, _, handler = stack.function_property(fid, "Handler").rpartition(".")
    timeout = float(stack.resolve(stack.function_property(fid, "Timeout", 3)))  # Lambda's: 3
    environment = {
        **stack.function_environment(fid),
        "AWS_LAMBDA_FUNCTION_NAME": fid,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(
            stack.resolve(stack.function_property(fid, "MemorySize", 128))
        ),
        "LOCAL_FUNCTION_TIMEOUT": str(timeout),  # the worker's context counts down from it
    }
    return FunctionSpec(
        name=fid,
        code_dir=stack.path(stack.function_property(fid, "CodeUri")),
        module=module,
        handler=handler,
        environment=environment,
        timeout=timeout,
    )


def _within(step: Callable[[], Any], deadline: float) -> bool:
    """Run ``step`` in a thread of its own; False if it is still running at ``deadline``
    (it is then abandoned: the thread is a daemon)."""
    worker = threading.Thread(target=step, name=f"stop-{step.__name__}", daemon=True)
    worker.start()
    worker.join(max(0.0, deadline - time.monotonic()))
    return not worker.is_alive()


class StopRequest:
    """Set by SIGINT or SIGTERM.

    The handler only sets an attribute. It takes no lock: a handler runs in the main
    thread between two bytecodes, possibly while that thread holds a lock (say, inside
    ``threading.Event.wait``), and a handler that took that same lock would wait for
    itself forever. It prints nothing either (the same goes for stdout's lock), and a
    second signal, during the shutdown or at any time, changes nothing.
    """

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, _signum: int, _frame: Any) -> None:
        self.requested = True

    def install(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C, or a supervisor's stop
            signal.signal(signum, self)

    def wait(self) -> None:
        while not self.requested:
            time.sleep(POLL_SECONDS)  # the handler runs during the sleep, seen after it


def _seconds(name: str, default: int) -> int:
    """A whole number of seconds from the environment (0-43200, SQS's visibility range)."""
    text = os.environ.get(name) or str(default)
    if not text.isdigit() or int(text) > 43200:
        raise SystemExit(f"{name}={text} is not a number of seconds (0-43200)")
    return int(text)


def _port(name: str, default: int) -> int:
    text = os.environ.get(name) or str(default)
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise SystemExit(f"{name}={text} is not a port number (1-65535)")
    return int(text)


def main() -> None:
    stop = StopRequest()
    stop.install()  # first: a signal during the start-up stops it once it is up
    api_port, aws_port = _port("API_PORT", 3000), _port("AWS_PORT", 5000)
    sandbox_port = _port("SANDBOX_PORT", 5001)
    if len({api_port, aws_port, sandbox_port}) < 3:
        raise SystemExit(
            f"API_PORT={api_port}, AWS_PORT={aws_port} and SANDBOX_PORT={sandbox_port} "
            "must be three different ports"
        )
    local = LocalConnector(api_port=api_port, aws_port=aws_port, sandbox_port=sandbox_port)
    try:
        local.start()
        print(local.describe(), flush=True)
        stop.wait()
    finally:
        print("stopping...", flush=True)
        clean = local.stop()
    if not clean:
        print(f"some parts did not stop within {STOP_SECONDS:g} s: exiting anyway", flush=True)
        os._exit(1)


if __name__ == "__main__":
    main()
