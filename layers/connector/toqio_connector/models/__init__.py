"""Plain data of the connector: the request, the stored customer, errors, clock, claims."""
