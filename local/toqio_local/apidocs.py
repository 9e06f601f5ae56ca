"""The browsable API reference that ``make run`` serves at ``/docs``: Swagger UI, offline.

The OpenAPI document is generated from the code with the registry in use, its
``servers`` pointing at this runner's API port; Swagger UI's script and style are the
copies Powertools ships, inlined, so the page needs no network.

The document is written into the page's ``<script>`` as JSON with ``<``, ``>``, ``&``,
U+2028 and U+2029 escaped (``\\u003c``...): a registry's text holding ``</script>`` would
otherwise end the script and put the rest of that text into the page as HTML.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

DOCS_PATH = "/docs"
# JSON text holds these only inside strings, where \uXXXX is the same character: the
# same document, and valid JavaScript, with no tag, entity or line terminator left in it.
_SCRIPT_ESCAPES = {ord(c): f"\\u{ord(c):04x}" for c in "<>&\u2028\u2029"}


def script_json(value: object) -> str:
    """``value`` as JSON text that may stand inside an HTML ``<script>`` element."""
    return json.dumps(value, ensure_ascii=False).translate(_SCRIPT_ESCAPES)


def _swagger_assets() -> tuple[str, str]:
    import aws_lambda_powertools.event_handler.openapi.swagger_ui as bundled

    folder = Path(bundled.__file__).parent
    script = (folder / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    style = (folder / "swagger-ui.min.css").read_text(encoding="utf-8")
    return script, style


class ApiDocs:
    """``GET /docs``: the page; ``GET /docs?format=json``: the OpenAPI document."""

    def __init__(self, registry_file: str | None, api_url: str) -> None:
        from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import (
            generate_swagger_html,
        )

        from toqio_connector.edge.registry_file import load_registry
        from toqio_connector.openapi import document

        spec = document(load_registry(registry_file))
        spec["servers"] = [{"url": api_url, "description": "make run"}]
        self.document = json.dumps(spec, ensure_ascii=False).encode("utf-8")
        script, style = _swagger_assets()
        page = generate_swagger_html(
            spec=script_json(spec),
            swagger_js=script,
            swagger_css=style,
            swagger_base_url="",
            oauth2_config=None,
            persist_authorization=False,
        )
        page = page.replace("<title>Swagger UI</title>", "<title>Toqio connector API</title>")
        self.page = page.encode("utf-8")

    def answer(self, query: str) -> tuple[int, dict[str, str], bytes]:
        if parse_qs(query).get("format") == ["json"]:
            return 200, {"Content-Type": "application/json"}, self.document
        return 200, {"Content-Type": "text/html; charset=utf-8"}, self.page
