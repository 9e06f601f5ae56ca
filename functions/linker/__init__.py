"""The linker function: the connector's customer events -> provider check -> status."""
