"""One cold start, in a fresh interpreter, as its first caller pays it:

    coldstart_probe.py function <dir> [<event.json>]
    coldstart_probe.py floor <service>[,<service>...] [create <body.json> | find <id>]
    coldstart_probe.py empty -

``function`` puts the function's folder first on ``sys.path`` (Lambda's task root) and
imports its ``app`` module, which runs the module-level initialisation (clients, logger,
registry, key parsing); given an event, it then calls the handler once with it: the
first request. ``floor`` imports boto3 and creates the named clients from one session,
the least any function using those services has to do; given an operation, it then
makes the same AWS calls as the connector's Create or Find with them (``floor.py``).
The time spent is measured here, around exactly that work, and printed as one JSON line
(``init_s``: import and initialisation; ``first_s``: the first request);
``coldstart.py`` measures the process's wall time around it.

Before the clock starts: ``sys``, ``time``, ``json`` and ``floor`` (json, time, uuid),
which both sides need to read their input, and the input itself.
"""

import json
import os
import sys
import time

from floor import Context, Floor

_mode, _target, _args = sys.argv[1], sys.argv[2], sys.argv[3:]
_input = None
if _mode == "function" and _args:
    with open(_args[0], encoding="utf-8") as _file:
        _input = json.load(_file)
elif _mode == "floor" and _args[:1] == ["create"]:
    with open(_args[1], encoding="utf-8") as _file:
        _input = json.load(_file)
_first = None
_status = None

_started = time.perf_counter()
if _mode == "function":
    sys.path[0] = _target  # replaces bench/ (the script's own folder)
    import app  # the handler module: import and module-level init

    _init = time.perf_counter() - _started
    if _input is not None:
        _context = Context(
            os.environ["AWS_LAMBDA_FUNCTION_NAME"],
            int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]),
        )
        _status = app.lambda_handler(_input, _context).get("statusCode")
        _first = time.perf_counter() - _started - _init
elif _mode == "floor":
    import boto3

    _imported = time.perf_counter() - _started
    _session = boto3.session.Session()
    _clients = {name: _session.client(name) for name in filter(None, _target.split(","))}
    _init = time.perf_counter() - _started
    if _args:
        _floor = Floor(
            _clients["dynamodb"],
            _clients["secretsmanager"],
            os.environ["TABLE_NAME"],
            os.environ["SECRET_NAME_PREFIX"],
        )
        if _args[0] == "create":
            _floor.create(_input)
        else:
            _floor.find(_args[1])
        _status = 200
        _first = time.perf_counter() - _started - _init
elif _mode == "empty":
    _init = time.perf_counter() - _started
else:
    raise SystemExit(f"unknown mode {_mode!r}")

import resource  # noqa: E402 - after the clock stops, so neither side pays for it here

print(
    json.dumps(
        {
            "init_s": _init,
            "first_s": _first,
            "status": _status,
            "import_s": _imported if _mode == "floor" else None,
            "modules": len(sys.modules),
            "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        }
    ),
    flush=True,
)
