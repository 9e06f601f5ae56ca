"""Offline runner for the connector: ``make run`` and ``make token`` (docs/local.md).

Everything it serves comes from ``template.yaml``: the resources it creates in the
emulator, the functions it runs (CodeUri/Handler), their environment, the API's routes,
its authorizer and its gateway responses.
"""
