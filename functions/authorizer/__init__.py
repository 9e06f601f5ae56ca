"""The TOKEN authorizer function: verifies the Bearer token of each request."""
