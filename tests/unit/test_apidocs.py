"""`make run`'s /docs page (toqio_local.apidocs): a registry's text stays text in it.

The OpenAPI document stands inside the page's ``<script>``; a registry description
holding ``</script>`` must not end that script. Over HTTP: tests/http/test_api_docs_http.py.
"""

from __future__ import annotations

import json
import re

import pytest

from toqio_local.apidocs import ApiDocs, script_json

HOSTILE = "</script><script>alert(1)</script> & <!-- \u2028\u2029 </SCRIPT >"
API = "http://127.0.0.1:3000"


def docs_of(tmp_path, description: str) -> ApiDocs:
    registry = tmp_path / f"registry-{len(description)}.json"
    registry.write_text(
        json.dumps(
            {
                "type": "object",
                "properties": {"branch": {"type": "string", "description": description}},
            }
        ),
        encoding="utf-8",
    )
    return ApiDocs(str(registry), API)


def embedded(page: str) -> tuple[object, str]:
    """The document the page's script holds (as JavaScript reads this JSON), and its text."""
    start = page.index("spec: ") + len("spec: ")
    document, end = json.JSONDecoder().raw_decode(page, start)
    return document, page[start:end]


def closings(page: str) -> int:
    return len(re.findall(r"</script", page, flags=re.IGNORECASE))


def test_a_registry_text_holding_a_closing_script_tag_stays_inside_the_script(tmp_path):
    plain = docs_of(tmp_path, "The branch.").page.decode()
    hostile = docs_of(tmp_path, HOSTILE)
    page = hostile.page.decode()
    assert closings(page) == closings(plain)  # the page's own, none from the registry
    assert len(re.findall(r"<script", page, flags=re.IGNORECASE)) == len(
        re.findall(r"<script", plain, flags=re.IGNORECASE)
    )
    document, text = embedded(page)
    assert document == json.loads(hostile.document)  # the same document, parsed back
    assert (
        document["components"]["schemas"]["CreateCustomerRequest"]["properties"]["branch"][
            "description"
        ]
        == HOSTILE
    )
    assert not set(text) & set("<>&\u2028\u2029")


@pytest.mark.parametrize("character", ["<", ">", "&", "\u2028", "\u2029"])
def test_each_character_that_matters_in_a_script_is_escaped_and_reads_back(character):
    text = script_json({"k": f"a{character}b"})
    assert character not in text
    assert f"\\u{ord(character):04x}" in text
    assert json.loads(text) == {"k": f"a{character}b"}
