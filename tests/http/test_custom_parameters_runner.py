"""Custom parameters: `make run`'s runner refuses to start with a broken registry."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.harness.http import free_ports
from tests.harness.registries import ROOT

PORTS = ("API_PORT", "AWS_PORT", "SANDBOX_PORT")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "is not valid JSON"),
        (
            '{"properties": {"code": {"type": "string", "pattern": "^(?P<digits>[0-9]{4})$"}}}',
            'pattern "^(?P<digits>[0-9]{4})$" at properties.code.pattern is not an ECMA-262',
        ),
    ],
    ids=["not-json", "python-only-pattern"],
)
def test_runner_refuses_to_start_with_a_broken_registry(tmp_path, content, problem):
    broken = tmp_path / "broken.json"
    broken.write_text(content)
    # free ports: the registry must be what stops it, not the ports
    env = {"CUSTOM_PARAMETERS_FILE": str(broken)}
    ports = free_ports(3)
    env |= {name: str(port) for name, port in zip(PORTS, ports, strict=True)}
    result = subprocess.run(
        [sys.executable, "-m", "toqio_local"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert str(broken) in result.stderr + result.stdout
    assert problem in result.stderr + result.stdout
