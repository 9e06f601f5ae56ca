"""Schemathesis against the offline runner's real HTTP, from the committed OpenAPI documents.

Schemathesis (its Python API: ``schema[path][method].as_strategy(mode)`` under a
derandomized Hypothesis ``@given``) generates positive and negative cases for both
operations from ``docs/openapi.json`` and, on a second runner started with the example
registry, from ``docs/openapi.example.json``. Generation comes first and is deterministic;
the cases are then sent over real HTTP in a few lanes at once (every request for one
customer id in the same lane, in generation order, so that no two requests for one id are
ever in flight together and every run sends the same thing).

Most requests carry a token whose ``customerID`` matches the body's ``id`` or the path's
``customerId`` so that they get past 403 and reach validation; one in ten carries a
mismatching token, one a missing Authorization header and one a garbage token (not a JWT,
not Bearer, ``alg: none``, HS256 signed with the public key, expired, foreign key, wrong
issuer, tampered signature...).

Every response is checked: never 5xx, ``application/json``, Toqio's envelope with
``httpStatus`` equal to the status, a ``code`` consistent with the status, the ``date``
format, ``errorSeverity``; 200 bodies have every secret masked and are exactly the
normalised request; no sent secret value appears in any response; Schemathesis' own
schema conformance checks and its negative-data check pass. At the end, the table and
Secrets Manager hold exactly the customers that were answered 200, and Find returns each
one as Create did. Problems are collected over the whole run and reported together.
"""

from __future__ import annotations

import base64
import collections
import dataclasses
import hashlib
import hmac
import json
import re
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import jwt
import pytest
import requests
import schemathesis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.harness.http import RunningConnector
from toqio_local import devkeys

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "docs" / "openapi.json"
EXAMPLE_SPEC = ROOT / "docs" / "openapi.example.json"
EXAMPLE_REGISTRY = ROOT / "layers" / "connector" / "toqio_connector" / "registry" / "example.json"

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
MASK = "*****"
CODES = {
    200: {"OK"},
    400: {"BAD_REQUEST"},
    401: {"UNAUTHORIZED"},
    403: {"FORBIDDEN"},
    404: {"CUSTOMER_NOT_FOUND", "NOT_FOUND"},
    405: {"METHOD_NOT_ALLOWED"},
    409: {"CUSTOMER_ALREADY_EXISTS"},
    413: {"PAYLOAD_TOO_LARGE"},
    415: {"UNSUPPORTED_MEDIA_TYPE"},
}
FIELD_CODES = {
    "REQUIRED",
    "INVALID_TYPE",
    "INVALID_VALUE",
    "INVALID_CURRENCY",
    "TOO_LONG",
    "UNKNOWN_PARAMETER",
}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
LANES = 8
MISMATCH_ID = "fuzz-mismatch"

# (path, method, mode) -> how many cases Hypothesis is asked for (derandomized: the same
# cases on every run). The default registry gets the most; the example registry adds its
# custom parameters (a secret one, nested objects, arrays, enums, bounds) to Create.
DEFAULT_BUDGET = {
    ("/customers", "POST", GenerationMode.POSITIVE): 330,
    ("/customers", "POST", GenerationMode.NEGATIVE): 330,
    ("/customers/{customerId}", "GET", GenerationMode.POSITIVE): 140,
    ("/customers/{customerId}", "GET", GenerationMode.NEGATIVE): 60,
}
EXAMPLE_BUDGET = {
    ("/customers", "POST", GenerationMode.POSITIVE): 160,
    ("/customers", "POST", GenerationMode.NEGATIVE): 140,
    ("/customers/{customerId}", "GET", GenerationMode.POSITIVE): 20,
}
MIN_TOTAL = 1000

SENT: collections.Counter[str] = collections.Counter()  # requests actually sent, per runner


# --- the runner -------------------------------------------------------------------------


class Runner(RunningConnector):
    """The runner, with what the fuzz test reads back from the emulator."""

    def stored_ids(self) -> set[str]:
        dynamodb = self.client("dynamodb")
        ids: set[str] = set()
        for table in dynamodb.list_tables()["TableNames"]:
            for page in dynamodb.get_paginator("scan").paginate(TableName=table):
                ids.update(item["id"]["S"] for item in page["Items"])
        return ids

    def secret_ids(self) -> collections.Counter[str]:
        ids: collections.Counter[str] = collections.Counter()
        for page in self.client("secretsmanager").get_paginator("list_secrets").paginate():
            for secret in page["SecretList"]:
                match = re.search(r"/customers/(.*)/secrets$", secret["Name"])
                # ':' in an id is '@' in its secret's name (ids never hold '@')
                ids[match.group(1).replace("@", ":") if match else secret["Name"]] += 1
        return ids


@pytest.fixture(scope="module")
def local():
    runner = Runner()
    yield runner
    runner.stop()


@pytest.fixture(scope="module")
def example_local():
    runner = Runner({"CUSTOM_PARAMETERS_FILE": str(EXAMPLE_REGISTRY)})
    yield runner
    runner.stop()


# --- tokens -----------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _claims(customer_id: str, **changes: Any) -> dict[str, Any]:
    return {**devkeys.claims(customer_id), **changes}


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


class Tokens:
    """Tokens for the development key (one per id: the authorizer caches per token), and
    the garbage ``Authorization`` values that must all be 401. The key is loaded once:
    ``devkeys.token`` parses the PEM on every call, which is slow at this volume."""

    GARBAGE = (
        "not-a-jwt",
        "basic",
        "no-scheme",
        "alg-none",
        "hs256-public-key",
        "expired",
        "foreign-key",
        "wrong-issuer",
        "no-customer-claim",
        "tampered-signature",
        "bearer-only",
        "empty",
    )

    def __init__(self) -> None:
        self._key = serialization.load_pem_private_key(devkeys.private_key_pem(), None)
        self._public = devkeys.public_key_pem().encode()
        self._foreign: Any = None
        self._good: dict[str, str] = {}

    def sign(self, claims: dict[str, Any], key: Any = None) -> str:
        return jwt.encode(claims, key or self._key, algorithm="RS256")

    def good(self, customer_id: str) -> str:
        if customer_id not in self._good:
            self._good[customer_id] = self.sign(_claims(customer_id))
        return self._good[customer_id]

    def garbage(self, index: int, customer_id: str) -> tuple[str, str]:
        """(name, Authorization value) of the ``index``-th kind of garbage."""
        kind = self.GARBAGE[index % len(self.GARBAGE)]
        claims = _claims(customer_id)
        if kind == "not-a-jwt":
            value = "Bearer not-a-jwt"
        elif kind == "basic":
            value = "Basic " + base64.b64encode(b"toqio:password").decode()
        elif kind == "no-scheme":
            value = self.good(customer_id)
        elif kind == "alg-none":
            value = "Bearer " + _unsigned({"alg": "none", "typ": "JWT"}, claims) + "."
        elif kind == "hs256-public-key":
            signing_input = _unsigned({"alg": "HS256", "typ": "JWT"}, claims)
            mac = hmac.new(self._public, signing_input.encode(), hashlib.sha256).digest()
            value = f"Bearer {signing_input}.{_b64(mac)}"
        elif kind == "expired":
            value = "Bearer " + self.sign(_claims(customer_id, nbf=0, iat=0, exp=1))
        elif kind == "foreign-key":
            if self._foreign is None:
                self._foreign = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            value = "Bearer " + self.sign(claims, self._foreign)
        elif kind == "wrong-issuer":
            value = "Bearer " + self.sign(_claims(customer_id, iss="NotToqio"))
        elif kind == "no-customer-claim":
            value = "Bearer " + self.sign({k: v for k, v in claims.items() if k != "customerID"})
        elif kind == "tampered-signature":
            header, payload, signature = self.good(customer_id).split(".")
            tampered = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
            value = f"Bearer {header}.{payload}.{tampered}"
        elif kind == "bearer-only":
            value = "Bearer "
        else:
            value = ""
        return kind, value


# --- generation -------------------------------------------------------------------------


@dataclass
class Planned:
    index: int
    case: Any  # schemathesis.Case
    label: str
    mode: GenerationMode
    auth: str  # match / mismatch / missing / garbage:<kind>
    authorization: str | None
    key: str  # the customer id the request addresses (its lane)
    body_id: str | None  # POST: the body's id when it is a string


def generate(operation: Any, mode: GenerationMode, count: int) -> list[Any]:
    """``count`` cases of ``operation`` in ``mode``, the same ones on every run."""
    cases: list[Any] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def collect(case: Any) -> None:
        cases.append(case)

    collect()
    return cases


def path_id(case: Any) -> str:
    """The customer id a Find addresses, as API Gateway hands it on: the URL's last
    segment, percent-decoded once (Schemathesis may hold the value already encoded)."""
    url = case.as_transport_kwargs(base_url="http://h")["url"]
    return unquote(urlsplit(url).path.removeprefix("/customers/"), errors="replace")


def plan(schema: Any, budget: dict[tuple[str, str, GenerationMode], int]) -> list[Planned]:
    tokens = Tokens()
    planned: list[Planned] = []
    for (path, method, mode), count in budget.items():  # Creates first, then Finds
        operation = schema[path][method]
        for case in generate(operation, mode, count):
            index = len(planned)
            if method == "POST":
                body = case.body
                body_id = body.get("id") if isinstance(body, dict) else None
                body_id = body_id if isinstance(body_id, str) else None
                key = body_id if body_id is not None else f"~{index % LANES}"
                subject = body_id if body_id is not None else "fuzz-no-id"
            else:
                body_id = None
                key = subject = path_id(case)
            slot = index % 10
            if slot == 7:
                auth, authorization = "mismatch", "Bearer " + tokens.good(MISMATCH_ID)
            elif slot == 8:
                auth, authorization = "missing", None
            elif slot == 9:
                kind, authorization = tokens.garbage(index // 10, subject)
                auth = f"garbage:{kind}"
            else:
                auth, authorization = "match", "Bearer " + tokens.good(subject)
            headers = case.headers if case.headers is not None else {}
            for name in [n for n in headers if n.lower() == "authorization"]:
                del headers[name]
            if authorization is not None:
                headers["Authorization"] = authorization
            case.headers = headers
            planned.append(
                Planned(index, case, operation.label, mode, auth, authorization, key, body_id)
            )
    return planned


# --- checking one response --------------------------------------------------------------


def secret_names(schema: Any, name: str) -> set[str]:
    """Properties of a component schema marked ``writeOnly`` (directly or in an anyOf)."""
    properties = schema.raw_schema["components"]["schemas"][name]["properties"]
    return {
        prop
        for prop, spec in properties.items()
        if spec.get("writeOnly") or any(b.get("writeOnly") for b in spec.get("anyOf", []))
    }


def expected_view(body: dict[str, Any], top_secrets: set[str], pp_secrets: set[str]) -> dict:
    """What Create must answer for an accepted ``body`` (docs/api.md), without createdAt."""
    view: dict[str, Any] = {}
    for key, value in body.items():
        if value is None:
            continue
        if key in top_secrets:
            view[key] = MASK
        elif key == "availableCurrencies":
            view[key] = list(dict.fromkeys(code.upper() for code in value))
        elif key == "paymentProvider":
            view[key] = {
                k: (MASK if k in pp_secrets else v) for k, v in value.items() if v is not None
            }
        else:
            view[key] = value
    return view


def sent_secrets(body: Any, top_secrets: set[str], pp_secrets: set[str]) -> list[str]:
    """The secret values a request body carries that would be recognisable in a response:
    at least 8 characters and not part of anything else the request said in the clear."""
    if not isinstance(body, dict):
        return []
    values = [body.get(name) for name in top_secrets]
    provider = body.get("paymentProvider")
    if isinstance(provider, dict):
        values += [provider.get(name) for name in pp_secrets]
    secrets = [v for v in values if isinstance(v, str) and len(v) >= 8 and v.strip("*")]
    clear: list[str] = []

    def walk(value: Any, secret_slot: bool) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                clear.append(str(k))
                walk(v, k in top_secrets or k in pp_secrets)
        elif isinstance(value, list):
            for v in value:
                walk(v, False)
        elif not secret_slot and value is not None:
            text = json.dumps(value, ensure_ascii=False)
            clear.extend([text, value] if isinstance(value, str) else [text])

    walk(body, False)
    return [s for s in secrets if not any(s in c for c in clear)]


@dataclass
class State:
    schema: Any
    top_secrets: set[str]
    pp_secrets: set[str]
    created: dict[str, dict[str, Any]]
    problems: list[str]
    lock: threading.Lock
    statuses: collections.Counter[int] = dataclasses.field(default_factory=collections.Counter)


def describe(item: Planned, response: Any | None, problem: str) -> str:
    request = response.request if response is not None else None
    body = request.body if request is not None else item.case.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "backslashreplace")
    text = repr(body)
    url = request.url if request is not None else item.case.formatted_path
    lines = [
        f"{item.label} [{item.mode.value}, auth={item.auth}]: {problem}",
        f"    request:  {item.case.method} {url}  body={text[:400]}",
    ]
    if response is not None:
        ctype = response.headers.get("content-type")
        shown = response.content.decode("utf-8", "backslashreplace")[:600]
        lines.append(f"    response: {response.status_code} {ctype} {shown}")
    return "\n".join(lines)


def check_response(item: Planned, response: Any, state: State) -> list[str]:
    problems: list[str] = []
    status = response.status_code
    if status >= 500:
        problems.append(f"5xx: {status}")
    ctype = (response.headers.get("content-type") or [""])[0]
    if ctype.split(";")[0].strip().lower() != "application/json":
        problems.append(f"Content-Type is {ctype!r}")
    try:
        envelope = json.loads(response.content)
    except ValueError:
        return [*problems, "body is not JSON"]
    if not isinstance(envelope, dict):
        return [*problems, "body is not a JSON object"]
    if envelope.get("httpStatus") != status:
        problems.append(f"httpStatus {envelope.get('httpStatus')!r} != {status}")
    for name in ("code", "message", "requestId"):
        if not isinstance(envelope.get(name), str) or not envelope.get(name):
            problems.append(f"envelope {name} missing or empty")
    if not isinstance(envelope.get("date"), str) or not DATE.match(envelope["date"]):
        problems.append(f"date {envelope.get('date')!r}")
    severity = "NONE" if status == 200 else "ERROR"
    if envelope.get("errorSeverity") != severity:
        problems.append(f"errorSeverity {envelope.get('errorSeverity')!r} for {status}")
    if status in CODES and envelope.get("code") not in CODES[status]:
        problems.append(f"code {envelope.get('code')!r} for {status}")
    if status != 200 and "data" in envelope:
        errors = envelope["data"]
        if not isinstance(errors, list) or not all(
            isinstance(e, dict) and e.get("code") in FIELD_CODES and isinstance(e.get("field"), str)
            for e in errors
        ):
            problems.append("error data is not a list of field errors")

    # No sent secret value in any response (docs/storage.md).
    text = response.content.decode("utf-8", "replace")
    for secret in sent_secrets(item.case.body, state.top_secrets, state.pp_secrets):
        if secret in text or json.dumps(secret)[1:-1] in text:
            problems.append(f"a sent secret value is in the response: {secret!r}")

    data = envelope.get("data")
    if status == 200:
        if not isinstance(data, dict):
            return [*problems, "200 without a data object"]
        for name in state.top_secrets & set(data):
            if data[name] != MASK:
                problems.append(f"unmasked secret {name}")
        provider = data.get("paymentProvider")
        if isinstance(provider, dict):
            for name in state.pp_secrets & set(provider):
                if provider[name] != MASK:
                    problems.append(f"unmasked secret paymentProvider.{name}")
        if "apiKey" not in data:
            problems.append("200 data without apiKey")
        if not isinstance(data.get("createdAt"), str):
            problems.append("200 data without createdAt")

    problems += expectations(item, status, envelope, state)

    try:
        item.case.validate_response(response, checks=CHECKS)
    except Exception as failure:  # schemathesis' FailureGroup: its own report
        first = str(failure).strip().splitlines()
        problems.append("schemathesis: " + " | ".join(x.strip() for x in first[:6] if x.strip()))
    return problems


def expectations(item: Planned, status: int, envelope: dict[str, Any], state: State) -> list[str]:
    """What the contract says this request must get, given its token."""
    code = envelope.get("code")
    data = envelope.get("data")
    problems: list[str] = []
    routed = code != "NOT_FOUND"
    if item.auth == "missing" or item.auth.startswith("garbage"):
        if not (status == 401 or (item.label.startswith("GET") and not routed)):
            problems.append(f"a request without a valid token got {status} (expected 401)")
        return problems
    if item.auth == "mismatch":
        body = item.case.body
        if item.label.startswith("POST") and item.body_id is not None:
            try:
                json.dumps(body, ensure_ascii=False).encode("utf-8")
                expected = {403}
            except UnicodeError:
                expected = {400}
        elif item.label.startswith("POST"):
            expected = {400}
        else:
            expected = {403} if routed else {404}
        if status not in expected:
            problems.append(f"a mismatching token got {status} (expected {sorted(expected)})")
        return problems
    # A matching token. None can carry an empty customerID: the authorizer refuses it.
    if item.key == "":
        if status != 401:
            problems.append(f"a token for an empty customerID got {status} (expected 401)")
        return problems
    if status in (401, 403):
        problems.append(f"a matching token got {status}")
    if item.label.startswith("POST"):
        body = item.case.body
        if status == 200:
            if not isinstance(body, dict) or item.body_id is None:
                problems.append("a body that is not an object with a string id was accepted")
                return problems
            want = expected_view(body, state.top_secrets, state.pp_secrets)
            got = {k: v for k, v in data.items() if k != "createdAt"}
            if got != want:
                problems.append(f"200 data is not the normalised request: {got!r} != {want!r}")
            with state.lock:
                previous = state.created.get(item.body_id)
                if previous is not None and previous != data:
                    problems.append("a replay answered different data")
                state.created[item.body_id] = data
        elif status == 409:
            with state.lock:
                if item.body_id not in state.created:
                    problems.append("409 for an id never created")
        elif status == 400 and item.mode.is_positive:
            # The document cannot say which strings are ISO 4217 codes: anything else a
            # schema-valid body is refused for is a difference between document and code.
            others = [
                e
                for e in data or []
                if not (
                    e.get("code") == "INVALID_CURRENCY"
                    and str(e.get("field", "")).startswith("availableCurrencies[")
                )
            ]
            if others or not data:
                problems.append(f"a schema-valid body was refused: {others or envelope}")
        elif status not in (400, 409):
            problems.append(f"unexpected status {status} for Create")
    else:
        customer_id = item.key
        if status == 200:
            with state.lock:
                created = state.created.get(customer_id)
            if created is None:
                problems.append("Find answered 200 for an id never created")
            elif data != created:
                problems.append(f"Find's data differs from Create's: {data!r} != {created!r}")
        elif status != 404:
            problems.append(f"unexpected status {status} for Find")
        elif code == "CUSTOMER_NOT_FOUND" and customer_id in state.created:
            problems.append("Find answered CUSTOMER_NOT_FOUND for a created customer")
    return problems


# --- running ----------------------------------------------------------------------------


def run(runner: Runner, spec: Path, budget: dict, name: str) -> State:
    schema = schemathesis.openapi.from_path(spec)
    planned = plan(schema, budget)
    state = State(
        schema=schema,
        top_secrets=secret_names(schema, "CreateCustomerRequest"),
        pp_secrets=secret_names(schema, "PaymentProvider"),
        created={},
        problems=[],
        lock=threading.Lock(),
    )
    lanes: list[list[Planned]] = [[] for _ in range(LANES)]
    for item in planned:
        lanes[zlib.crc32(item.key.encode("utf-8", "surrogatepass")) % LANES].append(item)

    def drive(lane: list[Planned]) -> None:
        with requests.Session() as session:
            for item in lane:
                try:
                    response = item.case.call(base_url=runner.api, session=session, timeout=30)
                except requests.exceptions.InvalidHeader:
                    continue  # refused by the client before anything was sent
                except requests.RequestException as exc:
                    with state.lock:
                        SENT[name] += 1
                        state.problems.append(describe(item, None, f"no response: {exc!r}"))
                    continue
                problems = check_response(item, response, state)
                with state.lock:
                    SENT[name] += 1
                    state.statuses[response.status_code] += 1
                    state.problems.extend(describe(item, response, p) for p in problems)

    with ThreadPoolExecutor(max_workers=LANES) as pool:
        list(pool.map(drive, lanes))

    # Find returns every created customer as Create did (not counted as generated).
    tokens = Tokens()

    def read_back(customer_id: str) -> str | None:
        data = state.created[customer_id]
        response = requests.get(
            f"{runner.api}/customers/{quote(customer_id, safe='')}",
            headers={"Authorization": "Bearer " + tokens.good(customer_id)},
            timeout=30,
        )
        body = response.json()
        if response.status_code == 200 and body.get("data") == data:
            return None
        return (
            f"Find {customer_id!r} after Create: {response.status_code} {body!r} (Create: {data!r})"
        )

    with ThreadPoolExecutor(max_workers=LANES) as pool:
        state.problems += [p for p in pool.map(read_back, sorted(state.created)) if p]

    # A rejected request stores nothing: the table and the secrets hold exactly the
    # customers that were answered 200, one secret each.
    stored = runner.stored_ids()
    secrets = runner.secret_ids()
    created = set(state.created)
    if stored != created:
        state.problems.append(
            f"table ids != ids answered 200: extra {sorted(stored - created)[:20]},"
            f" missing {sorted(created - stored)[:20]}"
        )
    if set(secrets) != created or any(n != 1 for n in secrets.values()):
        state.problems.append(
            f"secrets != ids answered 200: extra {sorted(set(secrets) - created)[:20]},"
            f" missing {sorted(created - set(secrets))[:20]},"
            f" duplicated {[k for k, n in secrets.items() if n != 1][:20]}"
        )
    return state


def report(state: State, runner: Runner) -> str:
    """Every kind of problem with a count and up to three examples of each."""
    kinds: dict[str, list[str]] = {}
    for problem in state.problems:
        kind = re.sub(r"\[.*?\]|'.*?'|\d+", "…", problem.splitlines()[0].split(": ", 1)[-1])
        kinds.setdefault(kind[:100], []).append(problem)
    lines = [f"{len(state.problems)} problems; statuses {dict(sorted(state.statuses.items()))}"]
    for kind, problems in sorted(kinds.items(), key=lambda kv: -len(kv[1])):
        lines.append(f"\n== {len(problems)} x {kind}")
        lines += problems[:3]
    lines.append("\nrunner output (tail):\n" + "".join(list(runner.output)[-10:]))
    return "\n".join(lines)


def test_fuzz_default_registry(local):
    state = run(local, SPEC, DEFAULT_BUDGET, "default")
    assert SENT["default"] >= 0.9 * sum(DEFAULT_BUDGET.values())
    assert state.created, "no generated Create was accepted"
    assert not state.problems, report(state, local)


def test_fuzz_example_registry(example_local):
    state = run(example_local, EXAMPLE_SPEC, EXAMPLE_BUDGET, "example")
    assert SENT["example"] >= 0.9 * sum(EXAMPLE_BUDGET.values())
    assert state.created, "no generated Create was accepted"
    assert not state.problems, report(state, example_local)


def test_fuzz_sent_at_least_1000_requests():
    if not SENT:
        pytest.skip("the fuzz tests did not run in this session")
    assert sum(SENT.values()) >= MIN_TOTAL, dict(SENT)
