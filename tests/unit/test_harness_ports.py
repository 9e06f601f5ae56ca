"""The ports the tests give the processes they start (tests/harness/http.py): distinct.

A port looked up alone is free again as soon as its probe closes, so three looked up one
after the other can be the same port (CI once gave API_PORT and AWS_PORT the same one).
``free_ports`` reserves them together.
"""

from __future__ import annotations

import socket

import pytest

from tests.harness import http


class ReusingKernel:
    """Hands out the lowest port not bound now: one just released comes straight back,
    as a kernel may do."""

    def __init__(self) -> None:
        self.bound: set[int] = set()

    def socket(self, *_args: object, **_kwargs: object) -> ReusingKernel.Socket:
        return ReusingKernel.Socket(self)

    class Socket:
        def __init__(self, kernel: ReusingKernel) -> None:
            self.kernel, self.port = kernel, 0

        def bind(self, address: tuple[str, int]) -> None:
            assert address == ("127.0.0.1", 0)
            self.port = min(set(range(40_000, 40_100)) - self.kernel.bound)
            self.kernel.bound.add(self.port)

        def getsockname(self) -> tuple[str, int]:
            return ("127.0.0.1", self.port)

        def close(self) -> None:
            self.kernel.bound.discard(self.port)

        def __enter__(self) -> ReusingKernel.Socket:
            return self

        def __exit__(self, *_exc: object) -> None:
            self.close()


@pytest.mark.parametrize("count", [1, 2, 3, 8])
def test_the_ports_reserved_together_are_distinct_and_free_again(count):
    ports = http.free_ports(count)
    assert len(ports) == count
    assert len(set(ports)) == count
    for port in ports:  # released: the process started next can bind each of them
        with socket.socket() as again:
            again.bind(("127.0.0.1", port))


def test_ports_are_distinct_where_a_released_port_comes_straight_back(monkeypatch):
    kernel = ReusingKernel()
    monkeypatch.setattr(socket, "socket", kernel.socket)
    ports = http.free_ports(3)
    assert ports == [40_000, 40_001, 40_002]
    assert kernel.bound == set()  # every probe released
