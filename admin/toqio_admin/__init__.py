"""``toqio-admin``: the operator's command for changes after creation (docs/operators.md)."""
