"""One cold start, in a fresh interpreter: ``coldstart_probe.py function <dir>`` or
``coldstart_probe.py floor <service>[,<service>...]``.

``function`` puts the function's folder first on ``sys.path`` (Lambda's task root) and
imports its ``app`` module, which runs the module-level initialisation (clients, logger,
registry, key parsing). ``floor`` imports boto3 and creates the named clients from one
session, the least any function using those services has to do. The time spent is
measured here, around exactly that work, and printed as one JSON line; ``bench/run.py``
measures the process's wall time around it.

Only ``sys`` and ``time`` (both built in) are imported before the clock starts.
"""

import sys
import time

_started = time.perf_counter()
_mode, _target = sys.argv[1], sys.argv[2]
if _mode == "function":
    sys.path[0] = _target  # replaces bench/ (the script's own folder)
    import app  # noqa: F401 - the handler module: import and module-level init
elif _mode == "floor":
    import boto3

    _imported = time.perf_counter() - _started
    _session = boto3.session.Session()
    for _service in filter(None, _target.split(",")):
        _session.client(_service)
elif _mode != "empty":
    raise SystemExit(f"unknown mode {_mode!r}")
_elapsed = time.perf_counter() - _started

import json  # noqa: E402 - after the clock stops, so neither side pays for it here
import resource  # noqa: E402

print(
    json.dumps(
        {
            "init_s": _elapsed,
            "import_s": _imported if _mode == "floor" else None,
            "modules": len(sys.modules),
            "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        }
    ),
    flush=True,
)
