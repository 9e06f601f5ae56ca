"""Shared code of the Toqio connector: models, rules, AWS adapters, HTTP envelope.

Modules import only what they need so that each Lambda pays, at cold start, for the
code its own path uses: ``auth`` needs neither boto3 nor pydantic.
"""
