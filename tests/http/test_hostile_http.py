"""Hostile requests, written by hand, over real HTTP against the offline runner.

Oversized and deeply nested bodies, huge arrays, bytes that are not UTF-8, duplicate keys,
numbers JSON does not have, lone surrogates, awkward customer ids, Content-Type games,
other methods, unknown paths and traversal, Authorization headers that are huge or not
Bearer, chunked bodies. Requests are written with ``http.client`` (or a bare socket) so
that nothing is added or normalised on the way: the server sees exactly these bytes.

Every response must be Toqio's envelope with ``httpStatus`` equal to the status, never a
5xx, and every refused request must store nothing: the table and Secrets Manager are
compared before and after through the emulator, and at the end the event bus must have
carried exactly one ``CustomerCreated`` per customer that was answered 200 here.
"""

from __future__ import annotations

import collections
import contextlib
import http.client
import json
import re
import socket
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.harness.http import RunningConnector

ROOT = Path(__file__).resolve().parents[2]
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
KIB = 1024
MIB = 1024 * KIB
LIMIT = 64 * KIB
JSON = "application/json"
MASK = "*****"


# --- the runner -------------------------------------------------------------------------


def _customer_part(item: dict) -> dict:
    """An item without the connection status, which the linker writes on its own time
    (a few seconds after an earlier Create), whatever a refused request does."""
    return {key: value for key, value in item.items() if not key.startswith("connection")}


class Reply:
    def __init__(self, status: int, headers: dict[str, str], raw: bytes) -> None:
        self.status = status
        self.headers = headers
        self.raw = raw
        try:
            self.body: Any = json.loads(raw)
        except ValueError:
            self.body = None

    def __repr__(self) -> str:
        return f"<{self.status} {self.headers.get('content-type')} {self.raw[:400]!r}>"


class Local(RunningConnector):
    """The runner, spoken to byte for byte."""

    def __init__(self) -> None:
        super().__init__()
        self.accepted: collections.Counter[str] = collections.Counter()  # ids answered 200

    # --- AWS, through the emulator ----------------------------------------------------

    def snapshot(self) -> tuple[frozenset, frozenset]:
        """Every item of every table and every secret (with its versions)."""
        dynamodb, secrets = self.client("dynamodb"), self.client("secretsmanager")
        items = set()
        for table in dynamodb.list_tables()["TableNames"]:
            for page in dynamodb.get_paginator("scan").paginate(TableName=table):
                items.update(
                    json.dumps(_customer_part(item), sort_keys=True) for item in page["Items"]
                )
        stored = set()
        for page in secrets.get_paginator("list_secrets").paginate():
            for secret in page["SecretList"]:
                versions = secret.get("SecretVersionsToStages") or {}
                stored.add((secret["Name"], tuple(sorted(versions))))
        return frozenset(items), frozenset(stored)

    @contextlib.contextmanager
    def stores_nothing(self):
        before = self.snapshot()
        yield
        after = self.snapshot()
        assert after == before, (
            f"a refused request changed what is stored: items +{sorted(after[0] - before[0])}"
            f" -{sorted(before[0] - after[0])}, secrets +{sorted(after[1] - before[1])}"
            f" -{sorted(before[1] - after[1])}"
        )

    # --- HTTP, byte for byte -----------------------------------------------------------

    def send(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> Reply:
        """Exactly these headers (plus Host and, with a body, Content-Length)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.api_port, timeout=60)
        try:
            connection.putrequest(method, path, skip_accept_encoding=True)
            for name, value in headers or []:
                connection.putheader(name, value)
            if body is not None:
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            reply = Reply(
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                response.read(),
            )
        except (http.client.HTTPException, OSError) as exc:
            raise AssertionError(f"no HTTP response to {method} {path[:80]}: {exc!r}") from exc
        finally:
            connection.close()
        if (
            method == "POST"
            and reply.status == 200
            and isinstance(reply.body, dict)
            and isinstance(reply.body.get("data"), dict)
        ):
            self.accepted[reply.body["data"].get("id")] += 1
        return reply

    def create(
        self,
        body: bytes,
        customer_id: str | None,
        content_type: str | None = JSON,
        headers: list[tuple[str, str]] | None = None,
    ) -> Reply:
        """POST /customers with ``body`` as is, a token for ``customer_id``."""
        sent = list(headers or [])
        if customer_id is not None:
            sent.append(("Authorization", "Bearer " + self.token(customer_id)))
        if content_type is not None:
            sent.append(("Content-Type", content_type))
        return self.send("POST", "/customers", body, sent)

    def find(self, customer_id: str, token_id: str | None = None) -> Reply:
        token_id = customer_id if token_id is None else token_id
        return self.send(
            "GET",
            "/customers/" + quote(customer_id, safe=""),
            None,
            [("Authorization", "Bearer " + self.token(token_id))],
        )


@pytest.fixture(scope="module")
def local():
    runner = Local()
    # Our own subscriber on the connector's bus, from the start.
    sqs, events = runner.client("sqs"), runner.client("events")
    runner.queue = sqs.create_queue(QueueName="hostile-subscriber")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=runner.queue, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(
        Name="hostile-subscriber",
        EventBusName="toqio-connector",
        EventPattern=json.dumps(  # change events; connection statuses: test_linking_http
            {"source": ["toqio.connector"], "detail-type": ["CustomerCreated", "CustomerUpdated"]}
        ),
    )
    events.put_targets(
        Rule="hostile-subscriber",
        EventBusName="toqio-connector",
        Targets=[{"Id": "q", "Arn": arn}],
    )
    yield runner
    runner.stop()


# --- what every response must be --------------------------------------------------------


def envelope(reply: Reply, status: int | set[int], code: str | set[str] | None = None) -> dict:
    """``reply`` is Toqio's envelope with the expected status (and code)."""
    statuses = {status} if isinstance(status, int) else status
    assert reply.status < 500, reply
    assert reply.status in statuses, reply
    content_type = reply.headers.get("content-type", "")
    assert content_type.split(";")[0].strip().lower() == JSON, reply
    body = reply.body
    assert isinstance(body, dict), reply
    assert body.get("httpStatus") == reply.status, reply
    for name in ("code", "message", "requestId"):
        assert isinstance(body.get(name), str) and body[name], (name, reply)
    assert isinstance(body.get("date"), str) and DATE.match(body["date"]), reply
    assert body.get("errorSeverity") == ("NONE" if reply.status == 200 else "ERROR"), reply
    if code is not None:
        codes = {code} if isinstance(code, str) else code
        assert body["code"] in codes, reply
    if reply.status == 200:
        data = body["data"]
        assert data["apiKey"] == MASK, reply
        for name in ("key", "loginId", "hmacKey"):
            if name in (data.get("paymentProvider") or {}):
                assert data["paymentProvider"][name] == MASK, reply
    else:
        assert body.get("errorOrigin") == "connector", reply
    return body


def fields(body: dict) -> dict[str, str]:
    return {e["field"]: e["code"] for e in body.get("data") or []}


def doc(**values: Any) -> bytes:
    return json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def padded(customer_id: str, size: int, extra: str = "") -> bytes:
    """A valid Create body of exactly ``size`` bytes (whitespace padding)."""
    head = f'{{"id": "{customer_id}", "apiKey": "hostile-key"{extra}'.encode()
    body = head + b" " * (size - len(head) - 1) + b"}"
    assert len(body) == size
    json.loads(body)
    return body


# --- sizes ------------------------------------------------------------------------------


def test_exactly_64_kib_of_valid_json_is_not_too_large(local):
    reply = local.create(padded("size-64k", LIMIT), "size-64k")
    body = envelope(reply, 200, "OK")
    assert body["data"]["id"] == "size-64k"


@pytest.mark.parametrize("size", [LIMIT + 1, 1 * MIB, 5 * MIB], ids=["64KiB+1", "1MiB", "5MiB"])
def test_bodies_over_64_kib_are_413(local, size):
    customer_id = f"size-{size}"
    with local.stores_nothing():
        reply = local.create(padded(customer_id, size), customer_id)
        envelope(reply, 413, "PAYLOAD_TOO_LARGE")


def test_the_limit_counts_bytes_not_characters(local):
    # 65,537 bytes but fewer than 65,536 characters: two-byte letters in commercialName.
    name = "é" * 255
    body = padded("size-bytes", LIMIT + 1, extra=f', "commercialName": "{name}"')
    assert len(body.decode()) < LIMIT
    with local.stores_nothing():
        envelope(local.create(body, "size-bytes"), 413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize(("size", "status"), [(LIMIT, 400), (LIMIT + 1, 413)])
def test_the_limit_applies_to_bodies_that_are_not_utf8_as_sent(local, size, status):
    # Not UTF-8: API Gateway hands it on base64-encoded, a third longer.
    head = b'{"id": "size-bin", "apiKey": "'
    body = head + b"\xff" * (size - len(head) - 2) + b'"}'
    assert len(body) == size
    with local.stores_nothing():
        envelope(local.create(body, "size-bin"), status)


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "0x10", "99999999999999999999999"])
def test_a_malformed_content_length_is_refused_in_the_envelope(local, length):
    with local.stores_nothing():
        reply = local.send(
            "POST",
            "/customers",
            None,
            [
                ("Authorization", "Bearer " + local.token("badlen")),
                ("Content-Type", JSON),
                ("Content-Length", length),
            ],
        )
        envelope(reply, {400, 413})


def read_reply(stream: Any) -> Reply:
    """One HTTP/1.1 response (with a Content-Length) off a socket's file."""
    status_line = stream.readline()
    assert status_line.startswith(b"HTTP/1."), (
        "the connection answered with something that is not an HTTP response (the rest of"
        f" the chunked body was taken for a request): {status_line + stream.read(300)!r}"
    )
    headers: dict[str, str] = {}
    while (line := stream.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = stream.read(int(headers.get("content-length", "0")))
    return Reply(int(status_line.split()[1]), headers, body)


def test_a_chunked_body_does_not_desynchronise_the_connection(local):
    """A chunked body is either read as the body or refused; its bytes must never be
    taken for the next request on the connection (request smuggling)."""
    body = doc(id="chunked-1", apiKey="hostile-key")
    chunked = (
        (
            "POST /customers HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {local.token('chunked-1')}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
        ).encode()
        + f"{len(body):x}\r\n".encode()
        + body
        + b"\r\n0\r\n\r\n"
    )
    follow = (
        "GET /customers/chunked-2 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {local.token('chunked-2')}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", local.api_port), timeout=10) as sock:
        stream = sock.makefile("rb")
        sock.sendall(chunked)
        first = read_reply(stream)
        envelope(first, {200, 400, 411, 413})
        if first.status == 200:
            local.accepted["chunked-1"] += 1
        if first.headers.get("connection", "").lower() == "close":
            return  # refused and closed: nothing left to misread
        sock.sendall(follow)
        envelope(read_reply(stream), 404, "CUSTOMER_NOT_FOUND")


def test_a_body_framed_both_chunked_and_by_length_is_refused_and_the_connection_closed(local):
    head = (
        "POST /customers HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {local.token('framed-1')}\r\n"
        "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", local.api_port), timeout=10) as sock:
        sock.sendall(head + b'{"a"}')  # never a chunk: the length's 5 bytes
        stream = sock.makefile("rb")
        reply = read_reply(stream)
        assert stream.read(1) == b""  # and closed: nothing more is read from it
    envelope(reply, 400)


def test_a_caller_hanging_up_mid_body_leaves_no_traceback(local):
    head = (
        "POST /customers HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {local.token('gone-1')}\r\nContent-Length: 1000\r\n\r\n"
    ).encode()
    before = len(local.output)
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", local.api_port), timeout=10) as sock:
            sock.sendall(head + b'{"id": "gone-1"')  # and gone, 985 bytes short
    probe = http.client.HTTPConnection("127.0.0.1", local.api_port, timeout=30)
    probe.request("GET", "/customers/gone-1", headers={"Authorization": "Bearer x.y.z"})
    assert probe.getresponse().status == 401  # still serving
    probe.close()
    assert "Traceback" not in "".join(list(local.output)[before:])


# --- nesting and huge arrays ------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"[" * LIMIT,  # exactly 64 KiB, never closed
        b"[" * 30_000 + b"]" * 30_000,
        b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
        b'{"id": "deep-1", "apiKey": "k", "paymentProvider": '
        + b"[" * 20_000
        + b"]" * 20_000
        + b"}",
        b'{"id": "deep-2", "apiKey": "k", "x": ' + b'{"a":' * 9_000 + b"1" + b"}" * 9_000 + b"}",
        b'{"id": "deep-3", "apiKey": "k", "x": ' + b"[" * 900 + b"]" * 900 + b"}",
        b'{"id": "deep-4", "apiKey": "k", "paymentProvider": {"key": '
        + b"[" * 990
        + b"]" * 990
        + b"}}",
    ],
    ids=["64KiB-open", "30000-arrays", "10000-objects", "pp-20000", "x-9000", "x-900", "pp-990"],
)
def test_deep_nesting_is_400(local, body):
    assert len(body) <= LIMIT
    match = re.search(rb'"id": "([^"]+)"', body)
    customer_id = match.group(1).decode() if match else "deep"
    with local.stores_nothing():
        envelope(local.create(body, customer_id), 400, "BAD_REQUEST")


@pytest.mark.parametrize("opener", [b"[", b'{"a":'])
def test_100000_levels_of_nesting_are_over_the_size_limit(local, opener):
    # 100,000 levels take at least 100,000 bytes: the 64 KiB limit answers first (413).
    with local.stores_nothing():
        envelope(local.create(opener * 100_000, "deep"), 413, "PAYLOAD_TOO_LARGE")


def test_200_currencies_are_accepted_and_201_are_too_long(local):
    body = envelope(
        local.create(doc(id="cur-200", apiKey="k", availableCurrencies=["eur"] * 200), "cur-200"),
        200,
    )
    assert body["data"]["availableCurrencies"] == ["EUR"]
    with local.stores_nothing():
        body = envelope(
            local.create(
                doc(id="cur-201", apiKey="k", availableCurrencies=["EUR"] * 201), "cur-201"
            ),
            400,
            "BAD_REQUEST",
        )
        assert fields(body) == {"availableCurrencies": "TOO_LONG"}


@pytest.mark.parametrize(
    "items",
    [["EUR"] * 10_000, ["XXXX"] * 8_000, [0] * 30_000, [[]] * 20_000, [{}] * 20_000],
    ids=["10000-EUR", "8000-invalid", "30000-numbers", "20000-arrays", "20000-objects"],
)
def test_huge_currency_arrays_are_one_too_long_error(local, items):
    raw = doc(id="cur-huge", apiKey="k", availableCurrencies=items)
    assert len(raw) <= LIMIT
    with local.stores_nothing():
        reply = local.create(raw, "cur-huge")
        body = envelope(reply, 400, "BAD_REQUEST")
        assert fields(body) == {"availableCurrencies": "TOO_LONG"}, reply
        assert len(reply.raw) < 4 * KIB, "a small request must not get a huge error list"


def test_100000_currencies_are_over_the_size_limit(local):
    raw = doc(id="cur-100k", apiKey="k", availableCurrencies=["EUR"] * 100_000)
    with local.stores_nothing():
        envelope(local.create(raw, "cur-100k"), 413, "PAYLOAD_TOO_LARGE")


# --- bytes and values JSON does not allow -------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"id": "utf8-1", "apiKey": "\xff"}',
        b"\xff\xfe{}",
        b'{"id": "utf8-2", "apiKey": "\xc0\xaf"}',  # overlong '/'
        b'{"id": "utf8-3", "apiKey": "\xed\xa0\x80"}',  # a surrogate, encoded
        b'{"id": "utf8-4", "apiKey": "\xe2\x82"}',  # truncated sequence
        b'{"id": "utf8-5", "apiKey": "caf\xe9"}',  # Latin-1
        b'{"id": "utf8-6", "apiKey": "\xf4\x90\x80\x80"}',  # beyond U+10FFFF
        b'{"id": "utf8-7", "\xff": "k"}',
        json.dumps({"id": "utf16-1", "apiKey": "k"}).encode("utf-16-le"),
        json.dumps({"id": "utf16-2", "apiKey": "k"}).encode("utf-16-be"),
        json.dumps({"id": "utf16-3", "apiKey": "k"}).encode("utf-16"),  # with a BOM
        json.dumps({"id": "utf32-1", "apiKey": "k"}).encode("utf-32"),
    ],
    ids=[
        "ff",
        "ff-fe",
        "overlong",
        "cesu-surrogate",
        "truncated",
        "latin1",
        "beyond-unicode",
        "in-a-key",
        "utf16-le",
        "utf16-be",
        "utf16-bom",
        "utf32",
    ],
)
def test_bodies_that_are_not_utf8_are_400(local, body):
    match = re.search(rb'"id": "([^"]+)"', body)
    customer_id = match.group(1).decode() if match else None
    if customer_id is None:  # UTF-16/32: find the id the slow way
        for encoding in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
            with contextlib.suppress(UnicodeDecodeError, ValueError):
                customer_id = json.loads(body.decode(encoding))["id"]
                break
    with local.stores_nothing():
        envelope(local.create(body, customer_id or "utf8"), 400, "BAD_REQUEST")


@pytest.mark.parametrize(
    "body",
    [
        b'{"id": "dup-1", "apiKey": "a", "apiKey": "b"}',
        b'{"id": "dup-2", "id": "dup-2", "apiKey": "a"}',
        b'{"id": "dup-x", "id": "dup-3", "apiKey": "a"}',
        b'{"id": "dup-4", "apiKey": "a", "paymentProvider": {"key": "a", "key": "b"}}',
        b'{"id": "dup-5", "apiKey": "a", "api\\u004bey": "b"}',  # the same key, escaped
        b'{"id": "dup-6", "apiKey": "a", "x": {"y": 1, "y": 2}}',
    ],
    ids=["apiKey", "id-same", "id-different", "nested", "escaped", "unknown-nested"],
)
def test_duplicate_keys_are_400(local, body):
    ids = re.findall(rb'"id": "([^"]+)"', body)
    with local.stores_nothing():
        for token_id in {i.decode() for i in ids}:  # whichever id the token names
            envelope(local.create(body, token_id), 400, "BAD_REQUEST")


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1" * 5000])
@pytest.mark.parametrize("where", ["apiKey", "currency", "unknown", "provider"])
def test_numbers_json_cannot_carry_are_400(local, number, where):
    customer_id = "num-" + where
    templates = {
        "apiKey": '{"id": "%s", "apiKey": %s}',
        "currency": '{"id": "%s", "apiKey": "k", "availableCurrencies": [%s]}',
        "unknown": '{"id": "%s", "apiKey": "k", "x": %s}',
        "provider": '{"id": "%s", "apiKey": "k", "paymentProvider": {"customerId": %s}}',
    }
    body = (templates[where] % (customer_id, number)).encode()
    with local.stores_nothing():
        envelope(local.create(body, customer_id), 400, "BAD_REQUEST")


@pytest.mark.parametrize(
    "template",
    [
        '{"id": "sur-1", "apiKey": "%s"}',
        '{"id": "sur-2", "apiKey": "k", "commercialName": "%s"}',
        '{"id": "sur-3", "apiKey": "k", "paymentProvider": {"key": "%s"}}',
        '{"id": "sur-4", "apiKey": "k", "%s": 1}',
        '{"id": "sur-5", "apiKey": "k", "availableCurrencies": ["%s"]}',
    ],
    ids=["apiKey", "commercialName", "pp-key", "a-key", "currency"],
)
@pytest.mark.parametrize(
    "text", [r"\ud800", r"\udfff", r"x\ud800y", r"\ud800\ud800", r"\udc00\ud800"]
)
def test_lone_surrogates_are_400(local, template, text):
    body = (template % text).encode()
    customer_id = re.search(r'"id": "([^"]+)"', template).group(1)
    with local.stores_nothing():
        envelope(local.create(body, customer_id), 400, "BAD_REQUEST")


@pytest.mark.parametrize(
    ("field", "template"),
    [
        ("apiKey", '{"id": "ctl-secret", "apiKey": "%s"}'),
        (
            "paymentProvider.key",
            '{"id": "ctl-secret", "apiKey": "k", "paymentProvider": {"key": "%s"}}',
        ),
        (
            "paymentProvider.loginId",
            '{"id": "ctl-secret", "apiKey": "k", "paymentProvider": {"loginId": "%s"}}',
        ),
        (
            "paymentProvider.hmacKey",
            '{"id": "ctl-secret", "apiKey": "k", "paymentProvider": {"hmacKey": "%s"}}',
        ),
    ],
    ids=["apiKey", "pp-key", "pp-loginId", "pp-hmacKey"],
)
@pytest.mark.parametrize("control", [r"\u0000", r"\t", r"\n", r"\u001b", r"\u007f", r"\u0085"])
def test_a_control_character_in_a_secret_value_is_400(local, field, template, control):
    secret = "CtlSecret7Value"
    with local.stores_nothing():
        reply = local.create((template % (secret + control + "tail")).encode(), "ctl-secret")
        answer = envelope(reply, 400, "BAD_REQUEST")
    assert answer["data"] == [
        {"field": field, "code": "INVALID_VALUE", "message": "must not contain control characters"}
    ]
    assert secret.encode() not in reply.raw


def test_a_lone_surrogate_in_the_id_is_400(local):
    with local.stores_nothing():
        reply = local.create(rb'{"id": "sur-\ud800", "apiKey": "k"}', "sur-\ud800")
        envelope(reply, 400, "BAD_REQUEST")


def test_a_surrogate_pair_is_an_ordinary_character(local):
    body = envelope(
        local.create(
            rb'{"id": "sur-pair", "apiKey": "k\ud83d\ude00", "commercialName": "\ud83d\ude00"}',
            "sur-pair",
        ),
        200,
    )
    assert body["data"]["commercialName"] == "\U0001f600"


# --- customer ids -----------------------------------------------------------------------


BAD_IDS = {
    "non-ascii-letter": "café",
    "fullwidth": "ａｂｃ",
    "kelvin-sign": "\u212a",  # matches [A-Za-z] only under Unicode case folding
    "dotted-capital-i": "\u0130",
    "arabic-digits": "\u0661\u0662",
    "combining": "a\u0301",
    "zero-width-space": "a\u200bb",
    "rtl-override": "a\u202eb",
    "bom": "\ufeffa",
    "emoji": "a\U0001f600",
    "nul": "a\u0000b",
    "newline": "a\nb",
    "trailing-newline": "a\n",
    "tab": "a\tb",
    "space": "a b",
    "slash": "a/b",
    "percent": "a%41",
    "129-chars": "a" * 129,
    "leading-dot": ".a",
    "leading-dash": "-a",
    "leading-underscore": "_a",
    "leading-colon": ":a",
    "dot": ".",
    "dotdot": "..",
}


@pytest.mark.parametrize("customer_id", BAD_IDS.values(), ids=BAD_IDS.keys())
def test_create_with_a_bad_id_is_400_on_field_id(local, customer_id):
    with local.stores_nothing():
        reply = local.create(doc(id=customer_id, apiKey="k"), customer_id)
        body = envelope(reply, 400, "BAD_REQUEST")
        assert "id" in fields(body), reply
        assert fields(body)["id"] in {"INVALID_VALUE", "TOO_LONG"}, reply


def test_create_with_an_empty_id_is_refused(local):
    # No token can name the empty id (401): with any other, it is a mismatch or invalid.
    with local.stores_nothing():
        reply = local.create(doc(id="", apiKey="k"), "someone")
        body = envelope(reply, {400, 403}, {"BAD_REQUEST", "FORBIDDEN"})
        if reply.status == 400:
            assert fields(body).get("id") == "INVALID_VALUE", reply


@pytest.mark.parametrize("customer_id", BAD_IDS.values(), ids=BAD_IDS.keys())
def test_find_with_a_bad_id_is_404(local, customer_id):
    # Its own token: the id in the path is the token's customerID, so not 403.
    with local.stores_nothing():
        reply = local.find(customer_id)
        envelope(reply, 404, {"CUSTOMER_NOT_FOUND", "NOT_FOUND"})


@pytest.mark.parametrize(
    "customer_id",
    [i for i in BAD_IDS.values() if "/" not in i],
    ids=[k for k, i in BAD_IDS.items() if "/" not in i],
)
def test_find_with_a_bad_id_and_another_token_is_403(local, customer_id):
    with local.stores_nothing():
        envelope(local.find(customer_id, token_id="someone-else"), 403, "FORBIDDEN")


@pytest.mark.parametrize("customer_id", ["a" * 128, "A-Za-z0-9._:-" + "x" * 115, "0", "9.9:9_9-9"])
def test_ids_at_the_edge_of_the_rules_are_accepted(local, customer_id):
    body = envelope(local.create(doc(id=customer_id, apiKey="k"), customer_id), 200)
    assert body["data"]["id"] == customer_id
    found = envelope(local.find(customer_id), 200)
    assert found["data"] == body["data"]


# --- Content-Type -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        "Application/JSON",
        "application/json ",
    ],
)
def test_json_content_types_are_accepted(local, content_type):
    customer_id = "ct-ok-" + re.sub(r"[^a-z0-9]", "", content_type.lower())[-12:]
    reply = local.create(doc(id=customer_id, apiKey="k"), customer_id, content_type)
    assert envelope(reply, 200)["data"]["id"] == customer_id


@pytest.mark.parametrize(
    "content_type",
    [
        "text/json",
        None,
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/vnd.api+json",
        "application/json-patch+json",
        "application/jsonx",
        "application",
        "",
        "*/*",
    ],
)
def test_other_content_types_are_415(local, content_type):
    with local.stores_nothing():
        reply = local.create(doc(id="ct-bad", apiKey="k"), "ct-bad", content_type)
        envelope(reply, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_an_empty_body_is_400(local):
    with local.stores_nothing():
        envelope(local.create(b"", "empty-body"), 400, "BAD_REQUEST")
        envelope(local.create(b"", "empty-body", content_type=None), 400, "BAD_REQUEST")


# --- methods and paths ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        (method, path)
        for path in ("/customers", "/customers/meth-1")
        for method in ("PUT", "PATCH", "DELETE", "OPTIONS")
    ]
    + [("GET", "/customers"), ("POST", "/customers/meth-1")],
)
def test_other_methods_on_known_paths_are_405(local, method, path):
    with local.stores_nothing():
        reply = local.send(
            method,
            path,
            doc(id="meth-1", apiKey="k"),
            [("Authorization", "Bearer " + local.token("meth-1")), ("Content-Type", JSON)],
        )
        envelope(reply, 405, "METHOD_NOT_ALLOWED")


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "FOO"])
def test_unheard_of_methods_are_refused_in_the_envelope(local, method):
    with local.stores_nothing():
        reply = local.send(
            method, "/customers/meth-2", None, [("Authorization", "Bearer " + local.token("x"))]
        )
        envelope(reply, {400, 403, 404, 405}, {"BAD_REQUEST", "NOT_FOUND", "METHOD_NOT_ALLOWED"})


UNKNOWN_PATHS = [
    "/",
    "/nowhere",
    "/customers/",
    "/customers/a/b",
    "//customers",
    "/customers/../x",
    "/customers/./x/..",
    "/customers/x/",
    "/customers//x",
    "/CUSTOMERS",
    "/Customers/x",
    "/customers%2F",
    "/customers/a/b/../../x",
    "/customers/x;y/z",
    "/%2e%2e/customers",
]


@pytest.mark.parametrize("path", UNKNOWN_PATHS)
@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("with_token", [True, False], ids=["token", "no-token"])
def test_unknown_paths_and_traversal_are_404(local, path, method, with_token):
    headers = [("Content-Type", JSON)]
    if with_token:
        headers.append(("Authorization", "Bearer " + local.token("x")))
    with local.stores_nothing():
        reply = local.send(method, path, doc(id="x", apiKey="k"), headers)
        envelope(reply, 404, "NOT_FOUND")


@pytest.mark.parametrize(
    "path", ["/customers/..", "/customers/%2e%2e", "/customers/a%2Fb", "/customers/%2e%2e%2fx"]
)
def test_encoded_traversal_in_the_id_is_404(local, path):
    # Whether API Gateway takes the id as '..'/'a/b' or refuses the path, it is 404.
    with local.stores_nothing():
        reply = local.send("GET", path, None, [("Authorization", "Bearer " + local.token(".."))])
        envelope(reply, {403, 404}, {"CUSTOMER_NOT_FOUND", "NOT_FOUND", "FORBIDDEN"})


def test_a_very_long_path_is_refused_in_the_envelope(local):
    with local.stores_nothing():
        reply = local.send(
            "GET", "/customers/" + "a" * 70_000, None, [("Authorization", "Bearer x")]
        )
        envelope(reply, {400, 401, 404, 414})


def test_a_body_on_a_find_is_ignored_or_refused(local):
    with local.stores_nothing():
        reply = local.send(
            "GET",
            "/customers/get-body",
            b"\xff" * 1000,
            [("Authorization", "Bearer " + local.token("get-body")), ("Content-Type", "x/y")],
        )
        envelope(reply, {400, 404, 415})


def test_garbage_in_the_query_string_is_harmless(local):
    reply = local.send(
        "GET",
        "/customers/query-1?%zz=%ff&a=%00&a=2&" + "b=" * 500,
        None,
        [("Authorization", "Bearer " + local.token("query-1"))],
    )
    envelope(reply, 404, "CUSTOMER_NOT_FOUND")


# --- Authorization ----------------------------------------------------------------------


def auth_values(local: Local) -> dict[str, str]:
    token = local.token("auth-1")
    return {
        "huge-100KB": "Bearer " + "A" * 100_000,
        "huge-valid-then-junk": "Bearer " + token + "A" * 100_000,
        "big-10KB": "Bearer " + "A" * 10_000,
        "basic": "Basic dG9xaW86cGFzc3dvcmQ=",
        "digest": 'Digest username="toqio", response="x"',
        "bearer-only": "Bearer",
        "bearer-space": "Bearer ",
        "token-without-scheme": token,
        "token-then-junk": f"Bearer {token} junk",
        "two-tokens": f"Bearer {token}, Bearer {token}",
        "other-scheme": "Token " + token,
        "latin1": "Bearer \xe9\xe9",
        "dots": "Bearer ...",
        "json": 'Bearer {"alg":"none"}',
    }


AUTH_KINDS = [
    "huge-100KB",
    "huge-valid-then-junk",
    "big-10KB",
    "basic",
    "digest",
    "bearer-only",
    "bearer-space",
    "token-without-scheme",
    "token-then-junk",
    "two-tokens",
    "other-scheme",
    "latin1",
    "dots",
    "json",
]


@pytest.mark.parametrize("kind", AUTH_KINDS)
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_bad_authorization_headers_are_401(local, kind, method):
    value = auth_values(local)[kind]
    headers = [("Authorization", value)]
    with local.stores_nothing():
        if method == "POST":
            reply = local.send(
                "POST",
                "/customers",
                doc(id="auth-1", apiKey="k"),
                [*headers, ("Content-Type", JSON)],
            )
        else:
            reply = local.send("GET", "/customers/auth-1", None, headers)
        if kind.startswith("huge"):
            # Headers past 64 KiB are beyond what API Gateway takes (10 KiB): the request
            # is refused as malformed before any authorizer runs.
            envelope(reply, {400, 401}, {"BAD_REQUEST", "UNAUTHORIZED"})
        else:
            envelope(reply, 401, "UNAUTHORIZED")


def test_no_authorization_header_is_401(local):
    with local.stores_nothing():
        reply = local.send(
            "POST", "/customers", doc(id="auth-2", apiKey="k"), [("Content-Type", JSON)]
        )
        envelope(reply, 401, "UNAUTHORIZED")


# --- last: events -----------------------------------------------------------------------


def test_events_only_for_the_creates_answered_200(local):
    """Runs last: exactly one CustomerCreated per customer answered 200 in this module,
    and none for anything refused."""
    sqs = local.client("sqs")
    expected = set(local.accepted)
    seen: collections.Counter[str] = collections.Counter()
    deadline = time.monotonic() + 10
    quiet_until = None
    while time.monotonic() < deadline:
        messages = sqs.receive_message(
            QueueUrl=local.queue, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", [])
        for message in messages:
            event = json.loads(message["Body"])
            seen[event["detail"]["customer"]["id"]] += 1
            assert event["detail-type"] == "CustomerCreated", event
            sqs.delete_message(QueueUrl=local.queue, ReceiptHandle=message["ReceiptHandle"])
        if set(seen) >= expected and quiet_until is None:
            quiet_until = time.monotonic() + 2  # and nothing more within a moment
        if quiet_until is not None and time.monotonic() > quiet_until:
            break
    assert set(seen) == expected, (
        f"events for {sorted(set(seen) - expected)} (never answered 200),"
        f" none for {sorted(expected - set(seen))}"
    )
    assert all(n == 1 for n in seen.values()), seen
