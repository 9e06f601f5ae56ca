"""The write protocol (rules/write_protocol.py) under stalls, races, crashes and losses.

Create and operator changes (docs/api.md, docs/operators.md): AWSCURRENT only ever moves
forward, to the version the item names, whatever the timing of concurrent writers; a
refused or losing write leaves none of its values in any secret version (deprecated ones
included) once it has been answered.

Each writer here is its own "container": its own store over its own adapter objects, so
one of them can be stalled at any step (a wrapped adapter method waiting on an event)
while another runs to its end against the same emulated account.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest

from tests.harness.aws import customer_table, secret_store
from tests.harness.customers import full_customer
from tests.harness.registries import EXAMPLE_REGISTRY, TEMPLATE
from toqio_connector.adapters import aws
from toqio_connector.edge.registry_file import load_registry
from toqio_connector.models.clock import utc_now
from toqio_connector.models.errors import CustomerAlreadyExists, ServiceUnavailable
from toqio_connector.ports import StaleWrite
from toqio_connector.rules.create_and_find import CustomerService
from toqio_connector.rules.operator_changes import Change, CustomerUpdater
from toqio_connector.rules.validation import validate_create
from toqio_connector.rules.write_protocol import ABANDONED_AFTER_SECONDS, WRITER_LIFETIME_SECONDS

TABLE = "toqio-connector-CustomersTable"
ORIGINAL = "webhook-secret-original-0001"
CANARY_A = "canary-of-writer-a-7Q2x9"
CANARY_B = "canary-of-writer-b-4K8m1"


@pytest.fixture
def registry():
    return load_registry(EXAMPLE_REGISTRY)


def customer_body(**extra: Any) -> dict[str, Any]:
    return {
        "id": "c1",
        "apiKey": "api-key-c1-original",
        "merchantCategoryCode": "5411",
        "webhookSigningSecret": ORIGINAL,
        **extra,
    }


def service(registry) -> CustomerService:
    return CustomerService(customer_table(), secret_store(), registry)


def operator(registry) -> CustomerUpdater:
    return CustomerUpdater(customer_table(), secret_store(""), registry)


def later(seconds: float) -> Callable[[], Any]:
    return lambda: utc_now() + timedelta(seconds=seconds)


# --- what Secrets Manager holds ----------------------------------------------------------


def every_stored_value(stack) -> str:
    """The text of every version (deprecated ones included) of every secret."""
    texts = []
    for secret in stack.secret_list():
        versions = stack.secretsmanager.list_secret_version_ids(
            SecretId=secret["ARN"], IncludeDeprecated=True
        )["Versions"]
        for version in versions:
            texts.append(
                stack.secretsmanager.get_secret_value(
                    SecretId=secret["ARN"], VersionId=version["VersionId"]
                )["SecretString"]
            )
    return "\n".join(texts)


def the_item(stack) -> dict[str, Any]:
    (item,) = stack.items()
    return item


def current_version(stack, arn: str) -> str:
    stages = stack.secretsmanager.describe_secret(SecretId=arn)["VersionIdsToStages"]
    (current,) = [version for version, labels in stages.items() if "AWSCURRENT" in labels]
    return current


def assert_settled(stack, expected_secret: str) -> None:
    """One customer, one secret; AWSCURRENT on the item's version, holding the values."""
    item = the_item(stack)
    (secret,) = [s for s in stack.secret_list()]
    assert item["secretArn"] == secret["ARN"]
    assert current_version(stack, secret["ARN"]) == item["secretVersionId"]
    held = json.loads(stack.secret_string(secret["ARN"]))
    assert held["webhookSigningSecret"] == expected_secret


@pytest.fixture
def current_moves(stack, monkeypatch):
    """Every version AWSCURRENT is put on, in order (by CreateSecret or by a move)."""
    from moto.secretsmanager.models import SecretsManagerBackend

    moves: list[str] = []
    real_move = SecretsManagerBackend.update_secret_version_stage
    real_create = SecretsManagerBackend.create_secret

    def move(self, secret_id, version_stage, remove_from_version_id, move_to_version_id):
        result = real_move(
            self, secret_id, version_stage, remove_from_version_id, move_to_version_id
        )
        if version_stage == "AWSCURRENT" and move_to_version_id:
            moves.append(move_to_version_id)
        return result

    def create(self, *args, **kwargs):
        result = real_create(self, *args, **kwargs)
        moves.append(json.loads(result)["VersionId"])
        return result

    monkeypatch.setattr(SecretsManagerBackend, "update_secret_version_stage", move)
    monkeypatch.setattr(SecretsManagerBackend, "create_secret", create)
    return moves


def item_versions(stack) -> dict[str, int]:
    """Secret version id -> the customer version whose item first named it (stream)."""
    named: dict[str, int] = {}
    for record in stack.stream_records():
        image = record["dynamodb"].get("NewImage") or {}
        if "secretVersionId" in image:
            named.setdefault(image["secretVersionId"]["S"], int(image["version"]["N"]))
    return named


def assert_only_forward(stack, moves: list[str]) -> None:
    named = item_versions(stack)
    order = [named[version] for version in moves if version in named]
    assert order == sorted(order), f"AWSCURRENT moved backwards: {order}"


# --- stalling one writer at one AWS call --------------------------------------------------


class AtCall:
    """In one thread only: at the ``occurrence``-th ``operation`` (an AWS API name such as
    ``PutItem``), before it is sent or after its answer, run ``action``.

    Every writer here shares the emulated account and the cached SDK clients, so a stall
    is told apart by the thread that makes the call; this works whatever code makes it.
    """

    def __init__(
        self, operation: str, *, after: bool = False, occurrence: int = 1, action=None
    ) -> None:
        self.operation, self.occurrence = operation, occurrence
        self.event = f"{'after' if after else 'before'}-call.*.*"
        self.reached, self.release = threading.Event(), threading.Event()
        self.action = action or self._wait
        self.thread_id = threading.get_ident()
        self.seen = 0

    def _wait(self) -> None:
        self.reached.set()
        assert self.release.wait(20), "never released"

    def _hook(self, model, **_kwargs) -> None:
        if threading.get_ident() != self.thread_id or model.name != self.operation:
            return
        self.seen += 1
        if self.seen == self.occurrence:
            self.action()

    def __enter__(self) -> AtCall:
        for service in ("dynamodb", "secretsmanager"):
            aws.client(service).meta.events.register(
                self.event, self._hook, unique_id=f"at-call-{id(self)}-{service}"
            )
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.release.set()
        for service in ("dynamodb", "secretsmanager"):
            aws.client(service).meta.events.unregister(
                self.event, unique_id=f"at-call-{id(self)}-{service}"
            )


def dies() -> None:
    raise KeyboardInterrupt  # the process ends here: nothing after this point runs


def stalled(at: AtCall, work: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    """Run ``work`` in a thread of its own, stalled by ``at``; wait until it is."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        at.thread_id = threading.get_ident()
        try:
            outcome["result"] = work()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    assert at.reached.wait(20), f"never reached {at.operation}"
    return thread, outcome


# Where writer A stalls in an operator change of a secret value, and whether its item
# has landed by then (its change is then stored; otherwise it must be refused).
CHANGE_STEPS = [
    ("UpdateItem", False, 1, False),  # its values written somewhere, its item not yet
    ("UpdateItem", True, 1, True),  # its item landed, nothing after that yet
    ("DescribeSecret", False, 1, True),  # about to promote its version
    ("GetItem", False, 2, True),  # observed AWSCURRENT, about to re-read the item
    ("UpdateSecretVersionStage", False, 1, True),  # about to move AWSCURRENT
]


@pytest.mark.parametrize(
    ("operation", "after", "occurrence", "landed"),
    CHANGE_STEPS,
    ids=[f"{'after' if a else 'before'}-{o}#{n}" for o, a, n, _ in CHANGE_STEPS],
)
def test_a_stalled_change_never_moves_awscurrent_back_nor_leaves_refused_values(
    stack, registry, current_moves, operation, after, occurrence, landed
):
    service(registry).create(customer_body(), "c1")
    writer_a, writer_b = operator(registry), operator(registry)
    with AtCall(operation, after=after, occurrence=occurrence) as at:
        thread, outcome = stalled(
            at, lambda: writer_a.update("c1", Change(secrets={"webhookSigningSecret": CANARY_A}))
        )
        result_b = writer_b.update("c1", Change(secrets={"webhookSigningSecret": CANARY_B}))
        assert result_b.changed
        at.release.set()
        thread.join(20)

    if landed:
        assert outcome["result"].changed and outcome["result"].customer.version == 2
        assert result_b.customer.version == 3
    else:
        assert isinstance(outcome.get("error"), StaleWrite), outcome
        assert CANARY_A not in every_stored_value(stack)
        assert result_b.customer.version == 2
    assert_settled(stack, CANARY_B)
    assert_only_forward(stack, current_moves)


def test_a_replay_healing_a_half_done_change_never_overtakes_a_newer_one(
    stack, registry, current_moves
):
    """An operator change died right after its item landed; a replay heals it while
    another operator's change runs: AWSCURRENT ends on the newest, never going back."""
    service(registry).create(customer_body(), "c1")
    with AtCall("UpdateItem", after=True, action=dies), pytest.raises(KeyboardInterrupt):
        operator(registry).update("c1", Change(secrets={"webhookSigningSecret": CANARY_A}))

    with AtCall("UpdateSecretVersionStage") as at:
        thread, outcome = stalled(at, lambda: service(registry).create(customer_body(), "c1"))
        operator(registry).update("c1", Change(secrets={"webhookSigningSecret": CANARY_B}))
        at.release.set()
        thread.join(20)

    assert isinstance(outcome.get("error"), CustomerAlreadyExists)  # its secret differs now
    assert_settled(stack, CANARY_B)
    assert_only_forward(stack, current_moves)


def test_refused_stale_change_leaves_none_of_its_values(stack, registry):
    service(registry).create(customer_body(), "c1")
    operator(registry).update("c1", Change(values={"riskTier": "LOW"}))
    with pytest.raises(StaleWrite):
        operator(registry).update(
            "c1", Change(secrets={"webhookSigningSecret": CANARY_A}), expected_version=1
        )
    assert CANARY_A not in every_stored_value(stack)
    assert_settled(stack, ORIGINAL)


def test_a_loser_that_died_before_cleaning_up_is_swept_by_the_next_change(stack, registry):
    service(registry).create(customer_body(), "c1")
    loser = operator(registry)
    with AtCall("UpdateItem") as at:
        thread, outcome = stalled(
            at, lambda: loser.update("c1", Change(secrets={"webhookSigningSecret": CANARY_A}))
        )
        operator(registry).update("c1", Change(values={"riskTier": "LOW"}))
        # It loses, then dies before it deletes what it wrote.
        with AtCall("DeleteSecret", action=dies) as death:
            death.thread_id = thread.ident
            at.release.set()
            thread.join(20)
    assert isinstance(outcome.get("error"), KeyboardInterrupt)
    assert CANARY_A in every_stored_value(stack)  # in its own pending secret only

    sweeper = operator(registry)
    sweeper.store.clock = later(ABANDONED_AFTER_SECONDS + 1)
    sweeper.update("c1", Change(secrets={"webhookSigningSecret": CANARY_B}))
    assert CANARY_A not in every_stored_value(stack)
    assert_settled(stack, CANARY_B)


def test_a_change_that_outlives_its_deadline_writes_nothing(stack, registry):
    service(registry).create(customer_body(), "c1")
    slow = operator(registry)
    moments = iter([utc_now(), utc_now() + timedelta(seconds=WRITER_LIFETIME_SECONDS + 1)])
    slow.store.clock = lambda: next(moments)
    with pytest.raises(ServiceUnavailable):
        slow.update("c1", Change(secrets={"webhookSigningSecret": CANARY_A}))
    assert CANARY_A not in every_stored_value(stack)
    assert the_item(stack)["version"] == 1


@pytest.mark.parametrize("landed", [True, False])
def test_an_item_write_of_unknown_outcome_is_resolved_by_a_fresh_read(stack, registry, landed):
    """The conditional write timed out: if it landed the change completes, else nothing
    of it remains."""
    service(registry).create(customer_body(), "c1")
    writer = operator(registry)
    real_replace = writer.store.table.replace

    def times_out(customer, expected_version):
        if landed:
            real_replace(customer, expected_version=expected_version)
        raise ServiceUnavailable(cause="ReadTimeoutError")

    writer.store.table.replace = times_out
    change = Change(secrets={"webhookSigningSecret": CANARY_A})
    if landed:
        assert writer.update("c1", change).changed
        assert_settled(stack, CANARY_A)
    else:
        with pytest.raises(ServiceUnavailable):
            writer.update("c1", change)
        assert CANARY_A not in every_stored_value(stack)
        assert_settled(stack, ORIGINAL)
    assert not [s for s in stack.secret_list() if "/pending/" in s["Name"]]


def test_a_change_that_changes_nothing_writes_nothing(stack, registry):
    service(registry).create(customer_body(riskTier="LOW"), "c1")
    before = stack.snapshot()
    records = len(stack.stream_records())
    writer = operator(registry)
    for change in (
        Change(values={"riskTier": "LOW"}),
        Change(secrets={"webhookSigningSecret": ORIGINAL}),
        Change(values={"riskTier": "LOW"}, secrets={"apiKey": "api-key-c1-original"}),
    ):
        result = writer.update("c1", change)
        assert not result.changed and result.customer.version == 1
    assert stack.snapshot() == before
    assert len(stack.stream_records()) == records


def test_writer_lifetime_covers_the_api_functions_timeout():
    from toqio_local.template import ResolvedTemplate

    timeout = ResolvedTemplate.read(TEMPLATE).function_property("CustomersApiFunction", "Timeout")
    assert timeout <= WRITER_LIFETIME_SECONDS
    assert ABANDONED_AFTER_SECONDS >= 2 * WRITER_LIFETIME_SECONDS + 10  # adopter + skew


# --- Create: orphans, takeovers, losses ---------------------------------------------------


def orphan(body: dict[str, Any], age: float = 0) -> str:
    """A secret left ``age`` seconds ago by a Create that died between CreateSecret and
    PutItem (the emulator's record of when it was made is moved back)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.secretsmanager.models import secretsmanager_backends

    secrets = secret_store()
    new = validate_create(body, load_registry(EXAMPLE_REGISTRY))
    arn, version_id = secrets.create(secrets.name_for(new.id), new.secrets, token=str(uuid4()))
    made = secretsmanager_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"].secrets[arn]
    made.versions[version_id]["createdate"] -= int(age)
    made.created_date -= int(age)
    return arn


def test_an_abandoned_secret_is_deleted_with_its_values_and_the_create_starts_afresh(
    stack, registry
):
    arn = orphan(customer_body(apiKey="dead-writers-key-0000"), age=ABANDONED_AFTER_SECONDS - 2)
    with pytest.raises(ServiceUnavailable):  # its writer may still be alive
        service(registry).create(customer_body(), "c1")
    taker = service(registry)
    taker.store.clock = later(3)
    assert taker.create(customer_body(), "c1").created
    assert the_item(stack)["secretArn"] != arn  # a secret of its own
    assert "dead-writers-key-0000" not in every_stored_value(stack)
    assert_settled(stack, ORIGINAL)


def test_identical_content_adopts_a_young_orphan_but_not_an_ageing_one(stack, registry):
    arn = orphan(customer_body(), age=WRITER_LIFETIME_SECONDS - 2)
    ageing = service(registry)
    ageing.store.clock = later(3)
    with pytest.raises(ServiceUnavailable):  # a taker may delete it before our item lands
        ageing.create(customer_body(), "c1")
    result = service(registry).create(customer_body(), "c1")
    assert result.created and result.customer.secretArn == arn
    assert len(stack.versions(arn)) == 1


def test_concurrent_takeovers_one_wins_the_losers_values_are_nowhere(stack, registry):
    """Two Creates with other content find an abandoned secret; the first stalls just
    before its item write. The second must not win meanwhile, nor leave its values."""
    orphan(customer_body(apiKey="dead-writers-key-0000"), age=ABANDONED_AFTER_SECONDS + 1)
    first, second = service(registry), service(registry)
    with AtCall("PutItem") as at:
        thread, outcome = stalled(
            at, lambda: first.create(customer_body(webhookSigningSecret=CANARY_A), "c1")
        )
        with pytest.raises(ServiceUnavailable):  # the first one is in flight
            second.create(customer_body(webhookSigningSecret=CANARY_B), "c1")
        at.release.set()
        thread.join(20)
    assert outcome["result"].created
    with pytest.raises(CustomerAlreadyExists):  # the second one's retry
        second.create(customer_body(webhookSigningSecret=CANARY_B), "c1")
    stored = every_stored_value(stack)
    assert CANARY_B not in stored and "dead-writers-key-0000" not in stored
    assert_settled(stack, CANARY_A)


def test_a_create_whose_item_loses_deletes_the_secret_it_made(stack, registry):
    """An item naming another (lost) secret: the Create's fresh secret is nobody's."""
    stack.dynamodb.put_item(
        TableName=TABLE,
        Item={
            "id": {"S": "c1"},
            "data": {"S": json.dumps({"id": "c1", "apiKey": "*****"})},
            "secretArn": {"S": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:gone-AbCdEf"},
            "secretVersionId": {"S": "v-gone"},
            "createdAt": {"S": "2026-01-01T00:00:00.000Z"},
            "updatedAt": {"S": "2026-01-01T00:00:00.000Z"},
            "version": {"N": "1"},
        },
    )
    stack.secretsmanager.create_secret(Name="unrelated", SecretString="{}")
    with pytest.raises(CustomerAlreadyExists):
        service(registry).create(customer_body(webhookSigningSecret=CANARY_A), "c1")
    assert CANARY_A not in every_stored_value(stack)


@pytest.mark.parametrize("foreign", ["not json at all", "[1, 2]", '"text"', "null"])
def test_a_foreign_secret_at_the_customers_name_is_a_conflict_not_a_500(api, stack, foreign):
    stack.secretsmanager.create_secret(
        Name="toqio-connector/customers/c1/secrets", SecretString=foreign
    )
    reply = api.create(full_customer("c1"))
    assert reply.status == 409 and reply.body["code"] == "CUSTOMER_ALREADY_EXISTS"
    assert stack.items() == []
    (secret,) = stack.secret_list()
    assert stack.secret_string(secret["ARN"]) == foreign  # not ours to touch


# --- the SDK retries a conditional write whose answer was lost ------------------------------


@pytest.fixture
def answers_lost_once(monkeypatch):
    """The next item write (PutItem or UpdateItem) lands, its answer is lost, and the SDK
    sends it again: the retry meets the condition the first attempt made false."""
    client = aws.client("dynamodb")
    calls: list[dict] = []

    def lost_once(real):
        def write(**kwargs):
            calls.append(kwargs)
            if len(calls) == 1:
                real(**kwargs)  # landed; the answer never arrives
            return real(**kwargs)

        return write

    monkeypatch.setattr(client, "put_item", lost_once(client.put_item))
    monkeypatch.setattr(client, "update_item", lost_once(client.update_item))
    return calls


def test_a_change_whose_item_write_was_retried_is_stored_not_refused(
    stack, registry, answers_lost_once
):
    service(registry).create(customer_body(), "c1")
    answers_lost_once.clear()
    result = operator(registry).update("c1", Change(secrets={"webhookSigningSecret": CANARY_A}))
    assert result.changed and len(answers_lost_once) == 1
    assert_settled(stack, CANARY_A)
    assert not [s for s in stack.secret_list() if "/pending/" in s["Name"]]


def test_a_create_whose_item_write_was_retried_is_created(stack, registry, answers_lost_once):
    assert service(registry).create(customer_body(), "c1").created
    assert_settled(stack, ORIGINAL)


@pytest.mark.parametrize("same_content", [True, False])
def test_a_create_for_a_customer_whose_secret_was_deleted_is_409_not_500(
    api, stack, capsys, same_content
):
    assert api.create(full_customer("c1")).status == 200
    (secret,) = stack.secret_list()
    stack.secretsmanager.delete_secret(SecretId=secret["ARN"], ForceDeleteWithoutRecovery=True)
    body = full_customer("c1") if same_content else full_customer("c1", apiKey="another-key-0")
    reply = api.create(body)
    assert reply.status == 409 and reply.body["code"] == "CUSTOMER_ALREADY_EXISTS"
    assert "secret version the customer's item names is missing" in capsys.readouterr().out


def test_an_old_json_secret_the_connector_never_made_is_never_deleted(stack, registry):
    name = "toqio-connector/customers/c1/secrets"
    stack.secretsmanager.create_secret(Name=name, SecretString='{"foo": "FOREIGN-VALUE"}')
    taker = service(registry)
    taker.store.clock = later(ABANDONED_AFTER_SECONDS + 1)
    with pytest.raises(CustomerAlreadyExists):
        taker.create(customer_body(), "c1")
    assert stack.secret_string(name) == '{"foo": "FOREIGN-VALUE"}'
    assert stack.items() == []


@pytest.mark.parametrize("landed", [True, False])
def test_an_operator_interrupting_the_item_write_leaves_no_refused_value(stack, registry, landed):
    """Ctrl-C while the conditional write is on its way: if it did not land, the pending
    secret goes with its values; if it did, the next reader finishes the change."""
    service(registry).create(customer_body(), "c1")
    writer = operator(registry)
    real_replace = writer.store.table.replace

    def interrupted(customer, expected_version):
        if landed:
            real_replace(customer, expected_version=expected_version)
        raise KeyboardInterrupt

    writer.store.table.replace = interrupted
    with pytest.raises(KeyboardInterrupt):
        writer.update("c1", Change(secrets={"webhookSigningSecret": CANARY_A}))
    if landed:
        operator(registry).update("c1", Change(values={"riskTier": "LOW"}))
        assert_settled(stack, CANARY_A)
    else:
        assert CANARY_A not in every_stored_value(stack)
        assert_settled(stack, ORIGINAL)
    assert not [s for s in stack.secret_list() if "/pending/" in s["Name"]]


def test_numbers_equal_as_json_are_the_same_content(stack, registry):
    """5 and 5.0 are one JSON number: a replay, and an operator change that changes
    nothing; true is still not 1."""
    first = service(registry).create(customer_body(settlementDelayDays=5), "c1")
    again = service(registry).create(customer_body(settlementDelayDays=5.0), "c1")
    assert again.created is False and again.customer == first.customer
    assert not operator(registry).update("c1", Change(values={"settlementDelayDays": 5.0})).changed
    from toqio_connector.models.customer import same_json

    assert not same_json({"a": True}, {"a": 1}) and same_json(
        {"a": [1, {"b": 2.0}]}, {"a": [1.0, {"b": 2}]}
    )
