"""The tests' harness: what the fixtures of tests/conftest.py, the tests themselves and
the benchmark (bench/) share.

* ``registries``: paths of the template and of the custom-parameter registries;
* ``aws``: the emulated account (moto), created from template.yaml, and reading it back;
* ``handlers``: the Lambda handlers, imported once under their real names and rewired
  per test, and the API Gateway events and Lambda context they are called with;
* ``customers``: complete customers and what the API shows of them;
* ``http``: ``make run``'s runner started as a process on free ports;
* ``tokens``: RSA keys and the PEM text the authorizer is configured with.

Nothing here is a fixture; nothing here starts an emulator or a process on import.
"""
