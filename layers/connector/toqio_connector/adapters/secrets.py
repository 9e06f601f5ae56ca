"""Secrets Manager adapter: customers' secrets, and pending secrets of changes in flight.

One secret per customer holds all of its secret values as JSON; short-lived pending
secrets hold a change's values until it is stored."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from toqio_connector.adapters.aws import aws_errors, error_code
from toqio_connector.models.errors import ServiceUnavailable
from toqio_connector.models.request import SecretDocument
from toqio_connector.ports import (
    CURRENT,
    SecretExists,
    SecretListing,
    SecretNotFound,
    SecretNotOurs,
    SecretVersion,
)

# Every secret the connector creates says so: one that does not is never deleted.
DESCRIPTION = "Toqio connector: a customer's provider credentials"
PENDING = "TOQIO_PENDING"  # a version copied in but not yet current (see rules/write_protocol.py)


def _dump(document: SecretDocument) -> str:
    # Not ASCII-escaped: the document is never longer than the request that carried it,
    # so it stays within Secrets Manager's 64 KiB.
    return json.dumps(
        document.get_secret_value(), separators=(",", ":"), sort_keys=True, ensure_ascii=False
    )


def _load(text: str | None) -> SecretDocument:
    try:
        value = json.loads(text or "")
    except ValueError:
        raise SecretNotOurs() from None
    if not isinstance(value, dict):
        raise SecretNotOurs()
    return SecretDocument(value)


class SecretsManagerStore:
    """The secret store (``ports.SecretStore``) on Secrets Manager: secrets named
    ``<prefix><customer id>/secrets``, created encrypted with ``kms_key_id`` if one is
    given (else with Secrets Manager's own key, ``aws/secretsmanager``)."""

    def __init__(self, prefix: str, secretsmanager: Any, kms_key_id: str = "") -> None:
        self.prefix = prefix
        self.kms_key_id = kms_key_id
        self._client = secretsmanager

    def name_for(self, customer_id: str) -> str:
        # Secret names allow A-Za-z0-9 /_+=.@- ; customer ids also allow ':', which maps
        # to '@' (never in an id, so the mapping is one to one). The '/secrets' suffix
        # keeps an id such as 'x-abc123' from looking like an ARN's random suffix.
        return f"{self.prefix}{customer_id.replace(':', '@')}/secrets"

    def create(self, name: str, document: SecretDocument, token: str) -> tuple[str, str]:
        """Create the secret with its first version; (arn, version id). SecretExists if taken."""
        key = {"KmsKeyId": self.kms_key_id} if self.kms_key_id else {}
        try:
            with aws_errors():
                response = self._client.create_secret(
                    Name=name,
                    SecretString=_dump(document),
                    ClientRequestToken=token,
                    Description=DESCRIPTION,
                    **key,
                )
        except ClientError as exc:
            if error_code(exc) == "ResourceExistsException":
                raise SecretExists(name) from None
            if error_code(exc) == "InvalidRequestException":  # the name's deletion is not done
                raise ServiceUnavailable(cause="secret name still being freed") from None
            raise
        return response["ARN"], response["VersionId"]

    def put_pending(self, secret_id: str, document: SecretDocument, version_id: str) -> None:
        """Add ``version_id`` holding ``document``, labelled TOQIO_PENDING, not current.

        Idempotent: the version id is the request token, so a second copy of the same
        document is a no-op (Secrets Manager refuses a different one under that id).
        """
        with aws_errors():
            self._client.put_secret_value(
                SecretId=secret_id,
                SecretString=_dump(document),
                ClientRequestToken=version_id,
                VersionStages=[PENDING],
            )

    def get(self, secret_id: str, version_id: str | None = None) -> SecretVersion:
        """A version (the current one if none is named); SecretNotFound, SecretNotOurs."""
        kwargs: dict[str, Any] = {"SecretId": secret_id}
        if version_id:
            kwargs["VersionId"] = version_id
        else:
            kwargs["VersionStage"] = CURRENT
        try:
            with aws_errors():
                response = self._client.get_secret_value(**kwargs)
        except ClientError as exc:
            # InvalidRequestException: the secret is marked for deletion, as good as gone.
            if error_code(exc) in {"ResourceNotFoundException", "InvalidRequestException"}:
                raise SecretNotFound(secret_id) from None
            raise
        return SecretVersion(
            arn=response["ARN"],
            version_id=response["VersionId"],
            created=response["CreatedDate"],
            stages=tuple(response.get("VersionStages", ())),
            value=_load(response.get("SecretString")),
        )

    def delete(self, secret_id: str) -> None:
        """Delete a secret and every version of it at once (no recovery window).

        Given an ARN, only that secret: never a newer one created under the same name.
        """
        try:
            with aws_errors():
                self._client.delete_secret(SecretId=secret_id, ForceDeleteWithoutRecovery=True)
        except ClientError as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise

    def listed(self, name_prefix: str) -> list[SecretListing]:
        """Every secret whose name starts with ``name_prefix`` (exactly, case included)."""
        found: list[SecretListing] = []
        kwargs: dict[str, Any] = {"Filters": [{"Key": "name", "Values": [name_prefix]}]}
        while True:
            with aws_errors():
                response = self._client.list_secrets(**kwargs)
            found += [
                SecretListing(s["Name"], s["ARN"], s["CreatedDate"])
                for s in response.get("SecretList", [])
                if s["Name"].startswith(name_prefix)  # the service's filter ignores case
            ]
            if not response.get("NextToken"):
                return found
            kwargs["NextToken"] = response["NextToken"]

    def is_ours(self, arn: str) -> bool:
        """Whether the connector created this secret (its description says so)."""
        with aws_errors():
            described = self._client.describe_secret(SecretId=arn)
        return bool(described.get("Description") == DESCRIPTION)

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

    def drop_pending_label(self, arn: str, version_id: str) -> None:
        """Take TOQIO_PENDING off ``version_id`` once it is current (no-op if it moved on)."""
        try:
            with aws_errors():
                self._client.update_secret_version_stage(
                    SecretId=arn, VersionStage=PENDING, RemoveFromVersionId=version_id
                )
        except ClientError as exc:
            if error_code(exc) != "InvalidParameterException":
                raise
