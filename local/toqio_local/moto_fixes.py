"""Where the AWS emulator (moto) differs from AWS in ways this project depends on.

* UpdateSecretVersionStage moving AWSCURRENT does not change the version that
  GetSecretValue returns when asked for neither a version nor a stage (moto keeps a
  separate "default version"). AWS returns the AWSCURRENT version. Subscribers read a
  customer's credentials exactly that way, so the emulator is put right here.
"""

from __future__ import annotations

from functools import wraps
from typing import Any


def apply() -> None:
    from moto.secretsmanager.models import SecretsManagerBackend

    original = SecretsManagerBackend.update_secret_version_stage
    if getattr(original, "_toqio_fixed", False):
        return

    @wraps(original)
    def update_secret_version_stage(
        self: Any,
        secret_id: str,
        version_stage: str,
        remove_from_version_id: str,
        move_to_version_id: str,
    ) -> tuple[str, str]:
        result = original(
            self, secret_id, version_stage, remove_from_version_id, move_to_version_id
        )
        if version_stage == "AWSCURRENT" and move_to_version_id:
            self.secrets[secret_id].default_version_id = move_to_version_id
        return result

    update_secret_version_stage._toqio_fixed = True  # type: ignore[attr-defined]
    # a monkey-patch of moto's backend, by design
    SecretsManagerBackend.update_secret_version_stage = update_secret_version_stage  # type: ignore[method-assign]
