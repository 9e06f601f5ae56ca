"""``toqio-admin``: the operator's command for changes after creation (contract section 6)."""
