"""API Gateway TOKEN authorizer: lets a request through only with a valid Toqio JWT.

Allowed callers get a policy for the whole API (the result is cached per token) and
their verified ``customerID`` in the context; the customers API checks that it matches
the customer addressed. Anything else raises ``Unauthorized``, which API Gateway turns
into 401.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger

from toqio_connector.auth import CUSTOMER_CLAIM, InvalidToken, TokenVerifier

logger = Logger()
verifier = TokenVerifier.from_env()


def api_wide(method_arn: str) -> str:
    """``arn:...:api-id/stage/VERB/path`` -> ``arn:...:api-id/stage/*`` (cache-safe)."""
    arn, _, path = method_arn.partition("/")
    stage = path.split("/", 1)[0]
    return f"{arn}/{stage}/*" if stage else method_arn


@logger.inject_lambda_context
def lambda_handler(event: dict, context: object) -> dict:
    try:
        customer_id = verifier.verify(event.get("authorizationToken"))
    except InvalidToken as exc:
        logger.info("token refused", extra={"reason": str(exc)})
        raise Exception("Unauthorized") from None  # noqa: TRY002 - API Gateway's contract
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
        "context": {CUSTOMER_CLAIM: customer_id},
    }
