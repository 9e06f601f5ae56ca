"""API Gateway TOKEN authorizer: lets a request through only with a valid Toqio JWT.

Allowed callers get a policy for the whole API (the result is cached per token) and
their verified ``customerID`` in the context; the customers API checks that it matches
the customer addressed. The context also carries the token's ``exp``: API Gateway keeps
serving a cached verdict for ``AuthorizerCacheSeconds`` whatever the token says, so the
customers API refuses, on every request, a verdict that outlived its token. Anything
else raises ``Unauthorized``, which API Gateway turns into 401.

Kept small for its cold start, paid by every first request: no boto3, no pydantic, no
Powertools. Its log lines are standard ``logging`` records, which Lambda writes as JSON
with the request id (``LoggingConfig: LogFormat: JSON`` in the template).
"""

from __future__ import annotations

import logging

from toqio_connector import bootstrap
from toqio_connector.models.claims import CUSTOMER_CLAIM, EXPIRY_CLAIM
from toqio_connector.rules.tokens import InvalidToken
from toqio_connector.settings import AuthorizerSettings, read_settings

settings = read_settings(AuthorizerSettings)
logger = logging.getLogger("toqio.authorizer")
logger.setLevel(settings.log_level)
verifier = bootstrap.authorizer(settings)


def api_wide(method_arn: str) -> str:
    """``arn:...:api-id/stage/VERB/path`` -> ``arn:...:api-id/stage/*`` (cache-safe)."""
    arn, _, path = method_arn.partition("/")
    stage = path.split("/", 1)[0]
    return f"{arn}/{stage}/*" if stage else method_arn


def lambda_handler(event: dict, context: object) -> dict:
    try:
        customer_id, expires_at = verifier.verify(event.get("authorizationToken"))
    except InvalidToken as exc:
        logger.info("token refused: %s", exc)  # the reason only, never the token
        raise Exception("Unauthorized") from None  # noqa: TRY002 - API Gateway's contract
    passed_on = {CUSTOMER_CLAIM: customer_id}
    if expires_at is not None:  # a string, as API Gateway would hand it over anyway
        passed_on[EXPIRY_CLAIM] = str(expires_at)
    return {
        "principalId": customer_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": api_wide(event.get("methodArn", "")),
                }
            ],
        },
        "context": passed_on,
    }
