"""One Lambda "container": imports a handler once, then serves invocations.

Run by :mod:`toqio_local.functions` as ``python -m toqio_local.worker CODE_DIR MODULE
HANDLER FD``. Requests arrive on stdin, one JSON line each; replies go to file
descriptor FD, so that whatever the handler prints (its logs) reaches the console.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import signal
import sys
import time
import uuid


class LambdaContext:
    def __init__(self, function_name: str, memory: int, timeout: float) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory
        region = os.environ.get("AWS_REGION", "eu-west-1")
        self.invoked_function_arn = f"arn:aws:lambda:{region}:123456789012:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main() -> None:
    # Ctrl-C reaches the whole process group: the runner stops its containers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    code_dir, module_name, handler_name, fd = sys.argv[1:5]
    replies = os.fdopen(int(fd), "w", buffering=1, encoding="utf-8")
    sys.path.insert(0, code_dir)  # like Lambda's task root
    function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    # Like Lambda's runtime: standard logging records reach the console (the authorizer's
    # reasons for a 401 among them); Powertools' loggers print their own JSON lines.
    # (the connector's own standard loggers, "toqio.*": the SDK's INFO lines are noise here)
    printed = logging.StreamHandler(sys.stdout)
    printed.setFormatter(logging.Formatter(f"[{function_name}] %(levelname)s %(message)s"))
    logging.getLogger("toqio").addHandler(printed)
    handler = getattr(importlib.import_module(module_name), handler_name)
    memory = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
    # The template's Timeout (the runner passes it; Lambda's default otherwise): the
    # context counts down from it, as the runner's own wait for the reply does.
    timeout = float(os.environ.get("LOCAL_FUNCTION_TIMEOUT", "3"))
    replies.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        context = LambdaContext(function_name, memory, timeout)  # the clock runs from here
        event = json.loads(line)
        try:
            reply = {"result": handler(event, context)}
        except Exception as exc:  # noqa: BLE001 - reported like Lambda reports it
            reply = {"error": {"type": type(exc).__name__, "message": str(exc)}}
        replies.write(json.dumps(reply) + "\n")


if __name__ == "__main__":
    main()
