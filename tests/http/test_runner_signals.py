"""`make run` stops on SIGINT (Ctrl-C) and SIGTERM, however many arrive and whenever.

A signal handler runs in the main thread between two bytecodes, possibly while that
thread holds a lock; a handler that takes the same lock (``threading.Event.set`` takes
the lock ``Event.wait`` holds) waits for itself forever. The runner's handler only sets
a flag, and each part of the stop has a time limit.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.harness.http import RunningConnector
from tests.harness.registries import ROOT
from toqio_local import runner

# What the runner itself allows for a stop, and for noticing the signal, plus the
# interpreter's own exit.
STOP_BOUND = getattr(runner, "STOP_SECONDS", 10.0) + getattr(runner, "POLL_SECONDS", 0.1) + 5

# runner.main() with a stand-in for the stack, and a signal at every line that the main
# thread runs in the runner's and in threading's code once the handlers are installed:
# a handler then runs while that line's frame holds whatever lock it holds (signal.
# raise_signal runs the Python handler before returning).
SIGNAL_AT_EVERY_LINE = """
import signal, sys
from toqio_local import runner

class Standin:
    def __init__(self, **_ports):
        pass
    def start(self):
        pass
    def describe(self):
        return "up"
    def stop(self, *_args, **_kwargs):
        return True

runner.LocalConnector = Standin
raised = 0

def on_line(frame, event, _arg):
    global raised
    if event == "line" and callable(signal.getsignal(signal.SIGTERM)):
        raised += 1
        signal.raise_signal(signal.SIGTERM if raised % 2 else signal.SIGINT)
    return on_line

def on_call(frame, _event, _arg):
    name = frame.f_code.co_filename
    return on_line if name.endswith(("threading.py", "runner.py")) else None

sys.settrace(on_call)
runner.main()
sys.settrace(None)
print("exited after", raised, "signals", flush=True)
"""


def test_signals_landing_anywhere_in_the_runners_main_thread_never_deadlock_it():
    try:
        done = subprocess.run(
            [sys.executable, "-c", SIGNAL_AT_EVERY_LINE],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=STOP_BOUND,
        )
    except subprocess.TimeoutExpired as stuck:
        raise AssertionError(f"the runner hung on a signal: {stuck.stdout!r}") from None
    assert done.returncode == 0, done.stderr
    assert "stopping..." in done.stdout and "exited after" in done.stdout, done.stdout
    assert int(done.stdout.split("exited after ")[1].split()[0]) > 1  # several signals


def test_stop_ends_in_time_even_if_a_part_never_stops():
    """``ThreadingHTTPServer.shutdown()`` waits forever for a ``serve_forever`` that never
    ran: the runner gives up on it rather than hang."""
    local = runner.LocalConnector(api_port=0, aws_port=0)
    never_served = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    local._http = never_served
    stopping = threading.Thread(target=lambda: local.stop(timeout=0.5), daemon=True)
    stopping.start()
    stopping.join(5)
    try:
        assert not stopping.is_alive(), "stop() hung on a server that never served"
    finally:
        never_served._BaseServer__is_shut_down.set()  # let the abandoned shutdown() return
        stopping.join(5)
        never_served.server_close()
    assert local.stop() is True  # a second stop has nothing left to do


def test_a_burst_of_sigterm_and_sigint_stops_the_runner_in_time():
    connector = RunningConnector()
    process = connector.process
    try:
        for _ in range(5):
            process.send_signal(signal.SIGTERM)
            time.sleep(0.01)
        process.send_signal(signal.SIGINT)
        started = time.monotonic()
        process.wait(timeout=STOP_BOUND)
        stopped_in = time.monotonic() - started
    finally:
        connector.stop()  # SIGKILL if it is still there
    output = "".join(connector.output)
    assert process.returncode == 0, output
    assert output.count("stopping...") == 1, output
    assert "Traceback" not in output, output
    assert stopped_in < STOP_BOUND
