"""Where a handler's module-level initialisation goes: ``explain_probe.py <dir>``.

Like ``coldstart_probe.py function <dir>``, but ``toqio_connector.adapters.aws`` is
imported first and its client factory timed, so the time spent creating boto3 clients
at start-up can be told apart from the time spent importing. Used only to explain a
missed target, never for the figures themselves.
"""

import sys
import time

_started = time.perf_counter()
sys.path[0] = sys.argv[1]
from toqio_connector.adapters import aws  # noqa: E402 - timed from the first statement

_calls = []
_factory = aws.client


def _timed_client(service):
    before = time.perf_counter()
    try:
        return _factory(service)
    finally:
        _calls.append({"service": service, "ms": (time.perf_counter() - before) * 1000})


aws.client = _timed_client  # the adapters bind it when the handler imports them
import app  # noqa: E402, F401 - the handler module: import and module-level init

_elapsed = time.perf_counter() - _started

import json  # noqa: E402

print(json.dumps({"init_s": _elapsed, "clients": _calls}), flush=True)
