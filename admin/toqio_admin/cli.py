"""``toqio-admin``: show a customer, change its custom parameters and secret values,
backfill a newly declared parameter onto every customer that lacks it, or relink
customers to their payment provider.

Works against real AWS (``--profile``, ``--region``) and against ``make run``'s
emulator (``AWS_ENDPOINT_URL=http://127.0.0.1:5000``). Secret values are read from a
prompt, or from standard input when it is not a terminal, one line per ``--secret``;
never from the command line, which shell history and process lists would keep.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from collections import Counter
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

EXIT_INVALID, EXIT_USAGE, EXIT_STALE, EXIT_UNAVAILABLE, EXIT_INTERRUPTED = 1, 2, 3, 4, 130
EXIT_UNREACHABLE = 5  # AWS cannot be reached, or the table or queue does not exist
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


if TYPE_CHECKING:
    from toqio_connector.adapters.aws import AwsProblem


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse_value(text: str) -> Any:
    """``NAME=VALUE``'s value: JSON if it parses (3, true, "3", {...}), else the text.

    NaN, Infinity and numbers beyond a double are not JSON: they stay text.
    """
    try:
        value = json.loads(text, parse_constant=_not_json)
        json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")  # no lone surrogate
    except (ValueError, UnicodeError):
        return text
    return value


def _assignment(text: str) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, _parse_value(value)


def _customer_id(text: str) -> str:
    """A customer id as the API takes it (else a usage error, before any AWS call)."""
    from toqio_connector.models.request import CUSTOMER_ID_MAX, is_customer_id

    if not is_customer_id(text):
        raise argparse.ArgumentTypeError(
            f"not a customer id: {text!r} (1 to {CUSTOMER_ID_MAX} of A-Z a-z 0-9 . _ : -,"
            " starting with a letter or digit)"
        )
    return text


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="toqio-admin", description=__doc__.split("\n\n")[0])
    top.add_argument("--profile", help="AWS profile (default: the usual AWS chain)")
    top.add_argument(
        "--region", help="AWS region (default: AWS_DEFAULT_REGION, else the profile's)"
    )
    top.add_argument(
        "--table",
        default=os.environ.get("TABLE_NAME"),
        help="customers table (default: TABLE_NAME, else the one table named *CustomersTable*)",
    )
    top.add_argument(
        "--registry",
        help="custom parameter registry (default: CUSTOM_PARAMETERS_FILE, else the shipped one)",
    )
    commands = top.add_subparsers(dest="command", required=True)

    show = commands.add_parser("show", help="print a customer, secrets masked")
    show.add_argument("customer_id", type=_customer_id)

    change = commands.add_parser("set", help="set or unset custom parameters and secret values")
    change.add_argument("customer_id", type=_customer_id)
    change.add_argument(
        "values",
        nargs="*",
        type=_assignment,
        metavar="NAME=VALUE",
        help="custom parameter values (JSON, or plain text)",
    )
    change.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="NAME",
        help="a secret field to set (apiKey, paymentProvider.key, a writeOnly parameter...); "
        "its value is prompted for, or read from stdin",
    )
    change.add_argument("--unset", action="append", default=[], metavar="NAME")
    change.add_argument(
        "--expect-version",
        type=int,
        help="refuse unless the customer is still at this version (from `show`)",
    )

    backfill = commands.add_parser(
        "backfill", help="set a newly declared parameter on every customer that lacks it"
    )
    backfill.add_argument("name")
    backfill.add_argument("--value", required=True, type=_parse_value, help="JSON, or plain text")
    backfill.add_argument("--dry-run", action="store_true", help="only say what would change")
    backfill.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    relink = commands.add_parser(
        "relink", help="check customers' credentials with their provider again"
    )
    relink.add_argument("customer_id", nargs="?", type=_customer_id)
    relink.add_argument(
        "--failed", action="store_true", help="every customer whose status is FAILED"
    )
    relink.add_argument(
        "--queue",
        default=os.environ.get("LINKER_QUEUE_URL"),
        help="the linker's queue URL (default: LINKER_QUEUE_URL, else the one *LinkerQueue*)",
    )
    return top


class InputRefused(Exception):
    """A secret value that is not text; the message never quotes it."""


class UsageError(Exception):
    """A setting the command cannot do without (exit 2); the message says which and how."""


def _line(raw: bytes, name: str) -> str:
    """One line of standard input as a value: UTF-8 text without its line ending (nor a
    byte order mark, which some editors put at the start of a file)."""
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    if raw.endswith(b"\n"):
        raw = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputRefused(f"the value given for {name} is not valid UTF-8 text") from None


def _read_secrets(names: list[str]) -> dict[str, str]:
    """One value per name: prompted for on a terminal, else one line each from stdin.

    Values are checked as text here; the API's own rules (no control characters...) then
    apply to them when the changed customer is validated like a Create.
    """
    values = {}
    interactive = sys.stdin.isatty()
    for name in names:
        if interactive:  # asked twice: a typo in a hidden value would go unseen
            value = getpass.getpass(f"{name}: ")
            if value and getpass.getpass(f"{name} (again): ") != value:
                raise InputRefused(f"the two values given for {name} differ")
        else:
            value = _line(sys.stdin.buffer.readline(), name)
        if not value:
            raise InputRefused(f"no value given for secret {name}")
        values[name] = value
    if names and not interactive and sys.stdin.buffer.read().strip(b"\r\n"):
        raise InputRefused(  # a file of the wrong lines would otherwise be half applied
            f"standard input holds more lines than the {len(names)} --secret name(s) given"
        )
    return values


def _discovered(args: argparse.Namespace, service: str, part: str) -> str:
    """The one table (``service`` dynamodb) or queue (sqs) whose name holds ``part``;
    UsageError naming the option and its variable otherwise."""
    from toqio_connector.adapters.aws import new_client

    client = new_client(service, args.profile, args.region)
    if service == "dynamodb":
        option, variable, kind = "--table", "TABLE_NAME", "table"
        names = client.list_tables()["TableNames"]
    else:
        option, variable, kind = "--queue", "LINKER_QUEUE_URL", "queue"
        names = [u for u in client.list_queues().get("QueueUrls", []) if "DeadLetter" not in u]
    matches = [name for name in names if part in name]
    if len(matches) != 1:
        raise UsageError(
            f"{option} is required (or set {variable}): "
            + _not_one(matches, kind, part, client.meta.region_name)
        )
    return str(matches[0])


def _table_name(args: argparse.Namespace) -> str:
    """``--table``, else ``TABLE_NAME``, else the one *CustomersTable*; kept in
    ``args.table`` for the messages."""
    if not args.table:
        args.table = _discovered(args, "dynamodb", "CustomersTable")
    return str(args.table)


def _not_one(matches: list[str], kind: str, part: str, region: str) -> str:
    """Why discovery found no single resource, naming the matches if any (not every
    table or queue in the account)."""
    if not matches:
        return f"no {kind} in {region} has {part} in its name"
    return f"{len(matches)} {kind}s in {region} have {part} in their names: {', '.join(matches)}"


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _emit(customer: Any) -> None:
    shown = {**customer.view(), "version": customer.version, "connection": None}
    connection = customer.connection
    if connection is not None:
        shown["connection"] = {
            "status": connection.status,
            "reason": connection.reason,
            "checkedAt": connection.checkedAt,
            "version": connection.version,
            # False: checked for older credentials; the current ones are being checked
            "current": connection.secretVersionId == customer.secretVersionId,
        }
    print(json.dumps(shown, indent=2, ensure_ascii=False))


def _queue_url(args: argparse.Namespace) -> str:
    """``--queue``, else ``LINKER_QUEUE_URL``, else the one *LinkerQueue*; kept in
    ``args.queue`` for the messages."""
    if not args.queue:
        args.queue = _discovered(args, "sqs", "LinkerQueue")
    return str(args.queue)


def _change(updater: Any, args: argparse.Namespace) -> int:
    from toqio_connector.rules.operator_changes import Change

    named = [name for name, _value in args.values] + args.secret
    twice = sorted({name for name in named if named.count(name) > 1})
    if twice:
        _say(f"refused: given more than once: {', '.join(twice)}")
        return EXIT_USAGE
    change = Change(
        values=dict(args.values), secrets=_read_secrets(args.secret), unset=tuple(args.unset)
    )
    result = updater.update(args.customer_id, change, args.expect_version)
    _say("changed" if result.changed else "nothing to change")
    _emit(result.customer)
    return 0


def _relink(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from toqio_connector import bootstrap

    if bool(args.customer_id) == bool(args.failed):
        _say("relink takes one customer id, or --failed")
        return EXIT_USAGE
    relinker = bootstrap.relinker(_table_name(args), _queue_url(args), args.profile, args.region)
    if args.customer_id:
        relinker.relink(args.customer_id)
        _say(f"relinking {args.customer_id}: `show` it in a few seconds")
        return 0
    targets = [customer.id for customer in relinker.failed()]
    _say(f"{len(targets)} customer(s) with a FAILED connection status")
    with tqdm(total=len(targets), unit="customer", file=sys.stderr) as bar:

        def advance(_customer_id: str) -> None:
            bar.update(1)

        try:
            sent = relinker.relink_all(targets, progress=advance)
        except KeyboardInterrupt:
            bar.close()
            _say(
                f"interrupted after {bar.n} of {len(targets)}: run it again to finish; those"
                " connected meanwhile are no longer FAILED and are skipped"
            )
            return EXIT_INTERRUPTED
    _say(f"{len(sent)} sent to the linker: `show` them in a few seconds")
    return 0


def _operate(args: argparse.Namespace) -> int:
    from toqio_connector import bootstrap
    from toqio_connector.edge.registry_file import load_registry
    from toqio_connector.rules.registry import RegistryError

    if args.command == "relink":
        return _relink(args)
    try:
        registry = load_registry(args.registry or os.environ.get("CUSTOM_PARAMETERS_FILE"))
    except RegistryError as exc:
        _say(str(exc))
        return EXIT_USAGE
    _say(f"registry: {registry.source}")
    updater = bootstrap.operator(
        registry, _table_name(args), profile=args.profile, region=args.region
    )
    if args.command == "show":
        _emit(updater.show(args.customer_id))
        return 0
    if args.command == "set":
        return _change(updater, args)
    return _backfill(updater, args)


def _refused(exc: Exception, args: argparse.Namespace) -> int | None:
    """The message and exit code of an expected refusal; None for anything else."""
    from toqio_connector.models.errors import (
        BadRequest,
        ConnectorError,
        CustomerNotFound,
        ServiceUnavailable,
    )
    from toqio_connector.ports import StaleWrite
    from toqio_connector.rules.operator_changes import ChangeRefused

    if isinstance(exc, CustomerNotFound):
        _say(f"customer {args.customer_id} not found")
        return EXIT_INVALID
    if isinstance(exc, ChangeRefused):
        _say(f"refused: {exc}")
        return EXIT_USAGE
    if isinstance(exc, InputRefused):
        _say(f"refused: {exc}; nothing was written")
        return EXIT_INVALID
    if isinstance(exc, BadRequest):
        _say("refused, the result would not be valid:")
        for error in exc.data or []:
            _say(f"  {error['field']}: {error['message']} ({error['code']})")
        return EXIT_INVALID
    if isinstance(exc, StaleWrite):
        _say(
            "refused: the customer changed since it was read; nothing was written. "
            "Run `show` again and retry."
        )
        return EXIT_STALE
    if isinstance(exc, ServiceUnavailable):
        _say(f"AWS is throttling or unavailable ({exc.cause or 'try again'}): retry shortly")
        return EXIT_UNAVAILABLE
    if isinstance(exc, ConnectorError):  # e.g. the customer's secret was deleted elsewhere
        _say(f"refused: {exc.cause or exc.message}; nothing was written")
        return EXIT_INVALID
    return None


def _failed(exc: Exception, args: argparse.Namespace) -> int | None:
    """Say why the command could not be done, in one line; its exit code. None for an
    unexpected error (its traceback is printed)."""
    from toqio_connector.adapters.aws import aws_problem

    if isinstance(exc, UsageError):
        _say(f"toqio-admin: {exc}")
        return EXIT_USAGE
    problem = aws_problem(exc)
    if problem is None:
        return _refused(exc, args)
    code, message = _unusable(problem, args)
    _say(f"toqio-admin: {message}")
    return code


def _unusable(problem: AwsProblem, args: argparse.Namespace) -> tuple[int, str]:
    """The exit code and message of a problem with AWS itself: what is wrong, and what to
    do about it."""
    from toqio_connector.adapters.aws import shown_url, where

    kind, endpoint = problem.kind, problem.endpoint or "its endpoint"
    if kind == "unreachable":
        if urlsplit(endpoint).hostname in LOCAL_HOSTS:
            hint = "is `make run` running, and AWS_ENDPOINT_URL its address?"
        else:
            hint = "check --region, AWS_ENDPOINT_URL and the network"
        return EXIT_UNREACHABLE, f"cannot reach AWS at {endpoint}: {problem.detail}; {hint}"
    if kind == "unanswered":
        return EXIT_UNAVAILABLE, f"AWS at {endpoint} did not answer in time: retry shortly"
    if kind in ("no-table", "no-queue"):
        service, name, option, variable = (
            ("dynamodb", f"table {args.table!r}", "--table", "TABLE_NAME")
            if kind == "no-table"
            else (
                "sqs",
                f"queue {shown_url(str(args.queue or ''), with_path=True)}",
                "--queue",
                "LINKER_QUEUE_URL",
            )
        )
        at, region = where(service, args.profile, args.region)
        recorded = (
            "; the relink request is recorded in the item: relink again once the queue is right"
            if kind == "no-queue"
            else ""
        )
        return EXIT_UNREACHABLE, (
            f"{name} does not exist in {region} at {at}: check {option} (or {variable})"
            f" and --region{recorded}"
        )
    why = f" ({problem.detail})" if problem.detail else ""
    return EXIT_USAGE, _UNCONFIGURED[kind].format(detail=problem.detail, why=why)


_UNCONFIGURED = {
    "no-region": "no AWS region: give --region, or set AWS_DEFAULT_REGION, or a region in"
    " the AWS profile",
    "no-profile": "no AWS profile named {detail!r}: check --profile (or AWS_PROFILE)",
    "no-credentials": "no usable AWS credentials{why}: give --profile (or set AWS_PROFILE), or"
    " set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (any values for `make run`)",
}


def _backfill(updater: Any, args: argparse.Namespace) -> int:
    started = time.monotonic()
    updater.check_backfill(args.name, args.value)
    targets = [customer.id for customer in updater.lacking(args.name)]
    shown = json.dumps(args.value, ensure_ascii=False)
    _say(f"{len(targets)} customer(s) lack {args.name}; each would get {args.name}={shown}")
    if args.dry_run:
        return _dry_run(targets)
    if not targets:
        return 0
    declined = _declined(args)
    if declined is not None:
        return declined
    return _apply_backfill(updater, args, targets, started)


def _dry_run(targets: list[str]) -> int:
    """List (the first 20 of) the customers a backfill would change; change nothing."""
    for customer_id in targets[:20]:
        _say(f"  {customer_id}")
    if len(targets) > 20:
        _say(f"  ... and {len(targets) - 20} more")
    _say("dry run: nothing changed")
    return 0


def _declined(args: argparse.Namespace) -> int | None:
    """None to go ahead (``--yes``, or the operator said y); else the exit status."""
    if args.yes:
        return None
    if not sys.stdin.isatty():
        _say("refusing to change customers without --yes (stdin is not a terminal)")
        return EXIT_USAGE
    if input("proceed? [y/N] ").strip().lower() != "y":
        _say("nothing changed")
        return 0
    return None


def _apply_backfill(
    updater: Any, args: argparse.Namespace, targets: list[str], started: float
) -> int:
    """Backfill ``targets`` with a progress bar; report what happened."""
    from tqdm import tqdm

    outcomes: Counter[str] = Counter()

    def advance(_customer_id: str, outcome: str) -> None:
        outcomes[outcome] += 1
        bar.update(1)

    with tqdm(total=len(targets), unit="customer", file=sys.stderr) as bar:
        try:
            report = updater.backfill(args.name, args.value, targets, progress=advance)
        except KeyboardInterrupt:
            bar.close()
            _say(
                f"interrupted after {sum(outcomes.values())} of {len(targets)} "
                f"({outcomes['updated']} updated): run the same command again to finish; "
                "customers already done are skipped"
            )
            return EXIT_INTERRUPTED
    _say(
        f"backfill of {args.name}: {len(report.updated)} updated, {len(report.skipped)} "
        f"skipped (already set or gone), {len(report.failed)} failed, "
        f"in {time.monotonic() - started:.1f}s"
    )
    for customer_id, reason in report.failed.items():
        _say(f"  failed {customer_id}: {reason}")
    return EXIT_INVALID if report.failed else 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """The arguments, ``set``'s NAME=VALUE pairs allowed after its options too."""
    top = parser()
    args, extra = top.parse_known_args(argv)
    if extra and args.command == "set" and not any(e.startswith("-") for e in extra):
        try:
            args.values = [*args.values, *(_assignment(text) for text in extra)]
        except argparse.ArgumentTypeError as exc:
            top.error(str(exc))
    elif extra:
        top.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the command. What stops it is told here, in one line with its exit code; but
    argparse's usage errors (they exit 2 themselves) and unexpected errors (a traceback,
    exit 1)."""
    args = _parse(argv)
    try:
        return _operate(args)
    except KeyboardInterrupt:
        _say("interrupted: a change in progress is either stored whole or not at all")
        return EXIT_INTERRUPTED
    except Exception as exc:
        code = _failed(exc, args)
        if code is None:
            raise
        return code


if __name__ == "__main__":
    sys.exit(main())
