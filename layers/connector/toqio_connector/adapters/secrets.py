"""Secrets Manager: one secret per customer, holding all of its secret values as JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from toqio_connector.adapters.aws import aws_errors, client, error_code, setting
from toqio_connector.models import SecretDocument

CURRENT = "AWSCURRENT"
PENDING = "TOQIO_PENDING"  # a version written but not yet in use (see updates.py)


class SecretExists(Exception):
    """CreateSecret found a secret of that name already."""


class SecretNotFound(Exception):
    """No such secret (or version), or not readable yet."""


@dataclass(frozen=True)
class SecretVersion:
    arn: str
    version_id: str
    created: datetime
    stages: tuple[str, ...]
    value: SecretDocument = field(repr=False)

    @property
    def is_current(self) -> bool:
        return CURRENT in self.stages


def _dump(document: SecretDocument) -> str:
    # Not ASCII-escaped: the document is never longer than the request that carried it,
    # so it stays within Secrets Manager's 64 KiB.
    return json.dumps(
        document.get_secret_value(), separators=(",", ":"), sort_keys=True, ensure_ascii=False
    )


class SecretStore:
    def __init__(self, prefix: str | None = None) -> None:
        self.prefix = prefix if prefix is not None else setting("SECRET_NAME_PREFIX")
        self._client = client("secretsmanager")

    def name_for(self, customer_id: str) -> str:
        # Secret names allow A-Za-z0-9 /_+=.@- ; customer ids also allow ':', which maps
        # to '@' (never in an id, so the mapping is one to one). The '/secrets' suffix
        # keeps an id such as 'x-abc123' from looking like an ARN's random suffix.
        return f"{self.prefix}{customer_id.replace(':', '@')}/secrets"

    def create(self, name: str, document: SecretDocument, token: str) -> tuple[str, str]:
        """Create the secret with its first version; (arn, version id). SecretExists if taken."""
        try:
            with aws_errors():
                response = self._client.create_secret(
                    Name=name,
                    SecretString=_dump(document),
                    ClientRequestToken=token,
                    Description="Toqio connector: a customer's provider credentials",
                )
        except ClientError as exc:
            if error_code(exc) == "ResourceExistsException":
                raise SecretExists(name) from None
            raise
        return response["ARN"], response["VersionId"]

    def put(
        self, secret_id: str, document: SecretDocument, token: str, *, current: bool = True
    ) -> tuple[str, str]:
        """A new version; (arn, version id). Idempotent for the same token.

        With ``current=False`` the version is labelled TOQIO_PENDING instead of
        AWSCURRENT: readers keep seeing the current values until :meth:`make_current`.
        """
        kwargs: dict[str, Any] = {} if current else {"VersionStages": [PENDING]}
        with aws_errors():
            response = self._client.put_secret_value(
                SecretId=secret_id, SecretString=_dump(document), ClientRequestToken=token, **kwargs
            )
        return response["ARN"], response["VersionId"]

    def get(self, secret_id: str, version_id: str | None = None) -> SecretVersion:
        kwargs: dict[str, Any] = {"SecretId": secret_id}
        if version_id:
            kwargs["VersionId"] = version_id
        else:
            kwargs["VersionStage"] = CURRENT
        try:
            with aws_errors():
                response = self._client.get_secret_value(**kwargs)
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                raise SecretNotFound(secret_id) from None
            raise
        return SecretVersion(
            arn=response["ARN"],
            version_id=response["VersionId"],
            created=response["CreatedDate"],
            stages=tuple(response.get("VersionStages", ())),
            value=SecretDocument(json.loads(response["SecretString"])),
        )

    def current_version(self, arn: str) -> str | None:
        """The version id AWSCURRENT is on."""
        with aws_errors():
            described = self._client.describe_secret(SecretId=arn)
        stages = described.get("VersionIdsToStages", {})
        return next((vid for vid, labels in stages.items() if CURRENT in labels), None)

    def move_current(self, arn: str, from_version: str | None, to_version: str) -> bool:
        """Move AWSCURRENT from ``from_version`` to ``to_version``, only if it is still on
        ``from_version`` (compare and swap); False if someone moved it meanwhile."""
        kwargs: dict[str, Any] = {"MoveToVersionId": to_version}
        if from_version:
            kwargs["RemoveFromVersionId"] = from_version
        try:
            with aws_errors():
                self._client.update_secret_version_stage(
                    SecretId=arn, VersionStage=CURRENT, **kwargs
                )
        except ClientError as exc:
            if error_code(exc) == "InvalidParameterException":  # not on from_version any more
                return False
            raise
        return True

    def make_current(self, arn: str, version_id: str) -> None:
        """Point AWSCURRENT at ``version_id`` (no-op if it already is)."""
        current = self.current_version(arn)
        if current != version_id:
            self.move_current(arn, current, version_id)
