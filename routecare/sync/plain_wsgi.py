"""A field node's plain-http listener, beside its HTTPS one (``make node``).

A phone that has not installed its society's root yet cannot trust the node's HTTPS. This
listener answers only what installing the root needs — the page with its fingerprint, the
``.crt`` file, the static files they use and the language switch — and sends everything else
to the same address over HTTPS: no page with health data, no sign-in, ever goes over the
Wi-Fi in clear.

``ROUTECARE_NODE_HTTPS_PORT`` (default 8443) is the port of the HTTPS listener.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from django.core.wsgi import get_wsgi_application
from django.http.request import split_domain_port

StartResponse = Callable[..., Any]

PLAIN_PREFIXES = ("/sync/node/ca/", "/sync/node/ca.crt", "/static/", "/i18n/setlang/")
LANDING = "/sync/node/ca/"


def plain_allowed(path: str) -> bool:
    return any(path.startswith(prefix) for prefix in PLAIN_PREFIXES)


def make_application(
    wrapped: Callable[[dict[str, Any], StartResponse], Iterable[bytes]], https_port: str
) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO") or "/")
        if path == "/":
            start_response("302 Found", [("Location", LANDING), ("Content-Length", "0")])
            return [b""]
        if plain_allowed(path):
            environ["routecare.https_port"] = https_port
            return wrapped(environ, start_response)
        host, _port = split_domain_port(str(environ.get("HTTP_HOST") or ""))
        if not host:
            host = str(environ.get("SERVER_NAME") or "localhost")
        location = f"https://{host}:{https_port}{path}"
        query = str(environ.get("QUERY_STRING") or "")
        if query:
            location += "?" + query
        # Not followed with a body: a POST sent here in clear is not replayed over HTTPS.
        start_response("301 Moved Permanently", [("Location", location), ("Content-Length", "0")])
        return [b""]

    return application


def _application() -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "routecare.settings")
    return make_application(
        get_wsgi_application(), os.environ.get("ROUTECARE_NODE_HTTPS_PORT", "8443")
    )


application = _application()
