"""The reference in docs/ says what the code does: tables checked against their source."""

from __future__ import annotations

import re

from tests.harness.registries import ROOT
from toqio_connector.models.errors import ERRORS
from toqio_connector.models.field_errors import FieldCode
from toqio_connector.rules.validation import _ERRORS

API = (ROOT / "docs" / "api.md").read_text()


def test_the_error_table_is_the_code_s():
    rows = [
        f"| {error.status} | `{error.code}` | {error.message} | {error.when} |" for error in ERRORS
    ]
    table = [line for line in API.splitlines() if re.match(r"^\| \d{3} \| `", line)]
    assert table == rows


def test_every_field_error_code_is_documented():
    for code in FieldCode:
        assert f"`{code.value}`" in API


def test_each_fixed_message_of_the_common_parameters_is_in_its_code_s_row():
    """docs/api.md's table of the common parameters' messages holds each message the code
    gives without a figure in it (a figure, such as a length limit, is shown as N)."""
    rows = dict(re.findall(r"^\| `([A-Z_]+)` \| ([^|`]+) \|$", API, re.M))
    for code, message in _ERRORS.values():
        if "{" not in message:
            assert message in rows[code.value].split(" · "), (code, message)


def test_nothing_in_the_repository_points_outside_it():
    for page in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        text = page.read_text()
        assert "../shared" not in text and "CONTRACT.md" not in text, page.name
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def test_make_help_lists_every_target_on_one_complete_line():
    """`make help` prints the first `## target:` line of each: every target has one, and
    its description is not continued on a `##` line that help would drop."""
    makefile = (ROOT / "Makefile").read_text()
    phony = set(re.search(r"^\.PHONY: (.+)$", makefile, re.M).group(1).split())
    described = re.findall(r"^## ([a-z-]+): .+$", makefile, re.M)
    assert set(described) == phony and len(described) == len(phony)
    assert not re.search(r"^## (?![a-z-]+: )", makefile, re.M)  # no continuation lines
