"""The business rules: create and find, writes, operator changes, validation, tokens."""
