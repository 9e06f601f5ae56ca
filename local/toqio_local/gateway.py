"""A local API Gateway (REST) in front of the functions, as ``template.yaml`` declares it.

Routes, the TOKEN authorizer, proxy events and gateway responses."""

from __future__ import annotations

import base64
import re
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import airspeed

from toqio_local.apidocs import DOCS_PATH, ApiDocs
from toqio_local.functions import FunctionCrashed, FunctionError, FunctionPool
from toqio_local.template import ResolvedTemplate

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit


@dataclass
class Route:
    resource: str
    method: str  # "ANY" or a verb
    pattern: re.Pattern[str]
    function: str  # logical id


@dataclass
class GatewayResponse:
    status: int
    headers: dict[str, str]
    template: str  # Velocity (VTL), as API Gateway renders it

    def render(self, context: dict[str, Any]) -> str:
        """The body, with ``$context.<key>`` taken from ``context`` (airspeed's Velocity)."""
        return render_vtl(self.template, context)


def render_vtl(template: str, context: dict[str, Any]) -> str:
    """Render a gateway response's template: the template's own text, so the runner and
    the tests exercise the very date arithmetic that API Gateway runs."""
    return str(airspeed.Template(template).merge({"context": context}))


@dataclass
class Authorizer:
    function: str
    header: str
    cache_seconds: int
    validation: re.Pattern[str] | None = None  # a header that does not match: 401 unseen


class ApiGateway:
    """The REST API ``api_id`` of ``stack``; ``pools`` runs its functions."""

    def __init__(
        self,
        stack: ResolvedTemplate,
        api_id: str,
        pools: dict[str, FunctionPool],
        docs: ApiDocs | None = None,
    ) -> None:
        self.stack = stack
        self.pools = pools
        self.docs = docs
        api = stack.resources[api_id]["Properties"]
        self.stage = str(stack.resolve(api.get("StageName", "live")))
        self.api_id = "local"
        self.routes = self._routes(api_id)
        self.authorizer = self._authorizer(api)
        self.responses = self._gateway_responses(api_id)
        self._auth_cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._auth_lock = threading.Lock()

    # --- configuration from the template ----------------------------------------------
    def _routes(self, api_id: str) -> list[Route]:
        routes = []
        for fid, resource in self.stack.of_type("AWS::Serverless::Function").items():
            for event in resource["Properties"].get("Events", {}).values():
                props = event.get("Properties", {})
                if event["Type"] != "Api" or props.get("RestApiId", {}).get("Ref") != api_id:
                    continue
                path = props["Path"]
                regex = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(path))
                regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", regex)
                routes.append(Route(path, props["Method"].upper(), re.compile(f"^{regex}\\Z"), fid))
        return routes

    def _authorizer(self, api: dict[str, Any]) -> Authorizer | None:
        auth = api.get("Auth", {})
        name = auth.get("DefaultAuthorizer")
        if not name:
            return None
        spec = auth["Authorizers"][name]
        function = spec["FunctionArn"]["Fn::GetAtt"][0]
        identity = spec.get("Identity", {})
        validation = identity.get("ValidationExpression")
        return Authorizer(
            function=function,
            header=identity.get("Header", "Authorization"),
            cache_seconds=int(self.stack.resolve(identity.get("ReauthorizeEvery", 300))),
            validation=re.compile(self.stack.resolve(validation)) if validation else None,
        )

    def _gateway_responses(self, api_id: str) -> dict[str, GatewayResponse]:
        responses = {}
        for resource in self.stack.of_type("AWS::ApiGateway::GatewayResponse").values():
            props = resource["Properties"]
            if props.get("RestApiId", {}).get("Ref") != api_id:
                continue
            headers = {
                key.removeprefix("gatewayresponse.header."): str(value).strip("'")
                for key, value in props.get("ResponseParameters", {}).items()
                if key.startswith("gatewayresponse.header.")
            }
            template = self.stack.resolve(props["ResponseTemplates"]["application/json"])
            responses[props["ResponseType"]] = GatewayResponse(
                int(props["StatusCode"]), headers, template
            )
        return responses

    # --- request handling ---------------------------------------------------------------
    def gateway_response(self, kind: str, request_id: str) -> tuple[int, dict[str, str], bytes]:
        fallback = (
            "DEFAULT_5XX"
            if kind in {"AUTHORIZER_FAILURE", "INTEGRATION_FAILURE"}
            else ("DEFAULT_4XX")
        )
        response = self.responses.get(kind) or self.responses[fallback]
        body = response.render(
            {"requestId": request_id, "requestTimeEpoch": int(time.time() * 1000)}
        )
        return response.status, dict(response.headers), body.encode("utf-8")

    def _authorize(self, authorizer: Authorizer, token: str, method_arn: str) -> dict[str, Any]:
        now = time.monotonic()
        with self._auth_lock:
            cached = self._auth_cache.get(token)
            if cached and cached[0] > now:
                return cached[1]
        policy = self.pools[authorizer.function].invoke(
            {"type": "TOKEN", "authorizationToken": token, "methodArn": method_arn}
        )
        if authorizer.cache_seconds:
            with self._auth_lock:
                self._auth_cache[token] = (now + authorizer.cache_seconds, policy)
        return policy

    @staticmethod
    def _allows(policy: dict[str, Any], method_arn: str) -> bool:
        allowed = False
        for statement in policy.get("policyDocument", {}).get("Statement", []):
            resources = statement.get("Resource", [])
            resources = [resources] if isinstance(resources, str) else resources
            if any(
                re.fullmatch(re.escape(r).replace(r"\*", ".*"), method_arn, re.DOTALL)
                for r in resources
            ):
                if statement.get("Effect") == "Deny":
                    return False
                allowed = True
        return allowed

    def handle(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        request_id = str(uuid.uuid4())
        url = urlsplit(target)
        path = unquote(url.path, errors="replace") or "/"
        if self.docs is not None and path == DOCS_PATH and method in {"GET", "HEAD"}:
            return self.docs.answer(url.query)  # the runner's own page, not a route
        found = next(
            (
                (route, match)
                for route in self.routes
                # on the path as sent, as API Gateway routes: an encoded "/" (%2F) is part
                # of a path parameter, not a separator
                if route.method in {"ANY", method}
                and (match := route.pattern.match(url.path or "/"))
            ),
            None,
        )
        if found is None:
            return self.gateway_response("MISSING_AUTHENTICATION_TOKEN", request_id)
        route, match = found
        method_arn = (
            f"arn:aws:execute-api:{self.stack.region}:{self.stack.account}:{self.api_id}/"
            f"{self.stage}/{method}{path}"
        )
        single = {name: value for name, value in headers}
        authorizer_context: dict[str, Any] = {}
        if self.authorizer is not None:
            token = next((v for k, v in headers if k.lower() == self.authorizer.header.lower()), "")
            if not token or (
                self.authorizer.validation and not self.authorizer.validation.fullmatch(token)
            ):
                return self.gateway_response("UNAUTHORIZED", request_id)
            try:
                policy = self._authorize(self.authorizer, token, method_arn)
            except FunctionError as exc:
                kind = (
                    "UNAUTHORIZED"
                    if exc.error_message == "Unauthorized"
                    else ("AUTHORIZER_FAILURE")
                )
                return self.gateway_response(kind, request_id)
            except FunctionCrashed:
                return self.gateway_response("AUTHORIZER_FAILURE", request_id)
            if not self._allows(policy, method_arn):
                return self.gateway_response("ACCESS_DENIED", request_id)
            authorizer_context = {
                **{k: str(v) for k, v in (policy.get("context") or {}).items()},
                "principalId": policy.get("principalId"),
            }
        event = self._proxy_event(
            route,
            method,
            path,
            url.query,
            headers,
            single,
            body,
            match,
            request_id,
            authorizer_context,
        )
        try:
            result = self.pools[route.function].invoke(event)
        except (FunctionError, FunctionCrashed):
            return self.gateway_response("DEFAULT_5XX", request_id)
        return self._proxy_response(result, request_id)

    def _proxy_event(
        self,
        route: Route,
        method: str,
        path: str,
        query: str,
        headers: list[tuple[str, str]],
        single: dict[str, str],
        body: bytes,
        match: re.Match[str],
        request_id: str,
        authorizer_context: dict[str, Any],
    ) -> dict[str, Any]:
        multi_headers: dict[str, list[str]] = {}
        for name, value in headers:
            multi_headers.setdefault(name, []).append(value)
        multi_query = {k: v for k, v in parse_qs(query, keep_blank_values=True).items()}
        try:
            text, encoded = body.decode("utf-8"), False
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(body).decode("ascii"), True
        now = time.time()
        return {
            "resource": route.resource,
            "path": path,
            "httpMethod": method,
            "headers": single or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": {  # each decoded once, after routing
                name: unquote(value, errors="replace") for name, value in match.groupdict().items()
            }
            or None,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": route.resource,
                "httpMethod": method,
                "path": f"/{self.stage}{path}",
                "stage": self.stage,
                "requestId": request_id,
                "extendedRequestId": request_id,
                "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                "requestTimeEpoch": int(now * 1000),
                "accountId": self.stack.account,
                "apiId": self.api_id,
                "protocol": "HTTP/1.1",
                "identity": {"sourceIp": "127.0.0.1", "userAgent": single.get("User-Agent")},
                "authorizer": authorizer_context or None,
            },
            "body": text if body else None,
            "isBase64Encoded": encoded,
        }

    def _proxy_response(self, result: Any, request_id: str) -> tuple[int, dict[str, str], bytes]:
        if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
            return self.gateway_response("DEFAULT_5XX", request_id)  # malformed proxy reply
        headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name] = ", ".join(str(v) for v in values)
        body = result.get("body") or ""
        raw = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
        return result["statusCode"], headers, raw


class _Handler(BaseHTTPRequestHandler):
    """One connection to the local API: each request goes to ``gateway``."""

    gateway: ApiGateway  # set by serve()
    protocol_version = "HTTP/1.1"
    server_version = "toqio-local"
    timeout = 30  # a socket read waits this long at most: a stalled body frees its thread

    def handle_one_request(self) -> None:
        """A caller that stalls or hangs up mid-request is let go quietly."""
        try:
            super().handle_one_request()
        except (TimeoutError, ConnectionError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        path = getattr(self, "path", "")[:200].split("?")[0]
        print(
            f"[api] {self.command or '-'} {path} -> {args[1] if len(args) > 1 else args}",
            flush=True,
        )

    def _respond(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        headers.setdefault("Content-Type", "application/json")
        for name, value in headers.items():
            if name.lower() not in {"content-length", "connection"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (bad syntax, URI or headers too long) in the
        envelope, as API Gateway's DEFAULT_4XX/5XX responses would be."""
        kind = "DEFAULT_5XX" if code >= 500 else "DEFAULT_4XX"
        self.close_connection = True
        self._respond(*self.gateway.gateway_response(kind, str(uuid.uuid4())))

    def _read_chunked(self) -> bytes | str:
        """A ``Transfer-Encoding: chunked`` body; else the gateway response that refuses it
        (too large: 413, as a body with Content-Length; malformed: 400)."""
        body = b""
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                return "DEFAULT_4XX"
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                return body
            if len(body) + size > MAX_REQUEST_BYTES:
                return "REQUEST_TOO_LARGE"
            body += self.rfile.read(size)
            if self.rfile.readline(3).strip():
                return "DEFAULT_4XX"

    def _any(self) -> None:
        request_id = str(uuid.uuid4())
        if self.headers.get("Transfer-Encoding") and self.headers.get("Content-Length"):
            # Both: which one frames the body is ambiguous (request smuggling): refused.
            self.close_connection = True
            self._respond(*self.gateway.gateway_response("DEFAULT_4XX", request_id))
            return
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunked = self._read_chunked()
            if isinstance(chunked, str):
                self.close_connection = True
                self._respond(*self.gateway.gateway_response(chunked, request_id))
                return
            body = chunked
        else:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length < 0:
                self.close_connection = True
                self._respond(*self.gateway.gateway_response("DEFAULT_4XX", request_id))
                return
            if length > MAX_REQUEST_BYTES:
                self.close_connection = True
                self._respond(*self.gateway.gateway_response("REQUEST_TOO_LARGE", request_id))
                return
            body = self.rfile.read(length) if length else b""
        # The target as sent: http.server folds a leading "//" into "/", API Gateway not.
        target = self.requestline.split(" ")[1] if " " in self.requestline else self.path
        status, headers, payload = self.gateway.handle(
            self.command, target, list(self.headers.items()), body
        )
        self._respond(status, headers, payload)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):  # any method: the routes decide (ANY, 405...)
            return self._any
        raise AttributeError(name)


def serve(gateway: ApiGateway, host: str, port: int) -> ThreadingHTTPServer:
    """The local API on ``host:port``, answered by ``gateway``, in a daemon thread."""
    handler = type("Handler", (_Handler,), {"gateway": gateway})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="api", daemon=True).start()
    return server
