"""The claims of Toqio's Integration Hub JWT that the connector reads, and its leeway."""

from __future__ import annotations

ISSUER = "Toqio"
SUBJECT = "Toqio-integration-hub Authorization"
CUSTOMER_CLAIM = "customerID"
EXPIRY_CLAIM = "exp"
NOT_BEFORE_CLAIM = "nbf"
ISSUED_AT_CLAIM = "iat"
DATE_CLAIMS = (EXPIRY_CLAIM, NOT_BEFORE_CLAIM, ISSUED_AT_CLAIM)  # JSON numbers when present
LEEWAY_SECONDS = 60  # for the date claims, against clock skew
