"""The shipped ISO 4217 list is pycountry's (no drift), and the layer does without pycountry."""

from __future__ import annotations

import subprocess
import sys

from tests.harness.registries import ROOT
from toqio_connector.models.currencies import is_currency
from toqio_connector.models.iso4217 import CODES


def test_the_generated_list_is_pycountry_s():
    checked = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "currencies.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr


def test_current_codes_pass_and_others_do_not():
    assert {"EUR", "GBP", "USD", "JPY", "CHF"} <= CODES and len(CODES) > 150
    assert is_currency("EUR") and not is_currency("XXXX") and not is_currency("eur")


def test_pycountry_is_not_in_the_layer():
    requirements = (ROOT / "layers" / "connector" / "requirements.txt").read_text()
    assert "pycountry" not in requirements
