"""Reading template.yaml's IAM statements: which actions on which ARNs a function may make.

Only what the tests need: Allow statements, resource patterns with ``*`` and ``?``, and
intrinsics the local runner resolves. Conditions are not evaluated.
"""

from __future__ import annotations

import re
from typing import Any

from toqio_local.template import ResolvedTemplate


def listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def iam_matches(pattern: str, arn: str) -> bool:
    """Whether an IAM resource pattern (``*`` any run of characters, ``?`` one) matches."""
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, arn, re.DOTALL) is not None


def statements(stack: ResolvedTemplate, function: str) -> list[dict[str, Any]]:
    """The inline statements of a SAM function's ``Policies``."""
    policies = stack.resources[function]["Properties"].get("Policies", [])
    return [s for policy in policies if "Statement" in policy for s in policy["Statement"]]


def allows(stack: ResolvedTemplate, granted: list[dict[str, Any]], action: str, arn: str) -> bool:
    """Whether one of ``granted`` allows ``action`` on ``arn``."""
    return any(
        statement["Effect"] == "Allow"
        and action in listed(statement["Action"])
        and any(iam_matches(p, arn) for p in listed(stack.resolve(statement["Resource"])))
        for statement in granted
    )
