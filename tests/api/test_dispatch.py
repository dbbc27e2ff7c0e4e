"""Route matching by first segment (``callyard.api.dispatch``) finds what FastAPI's scan of every route finds:
every operation of every served OpenAPI document, asked without credentials (so nothing changes), answers the
same with the index and with the full scan, as do unknown paths, wrong methods and trailing slashes. And the
hot routes' index (``callyard.api.hot``) matches by method, segment count and literal segments."""
from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Iterator

import httpx

from callyard.api.dispatch import RouteIndex
from callyard.api.hot import HotIndex
from callyard.app import FAMILIES

DOCUMENTS = ("/openapi.json", "/api/openapi.json", "/miccsdk/api/v1/openapi.json")


@contextmanager
def full_scan(app) -> Iterator[None]:
    index = app.router.middleware_stack
    assert isinstance(index, RouteIndex)
    saved, index.routes = index.routes, []        # the index steps aside when the routes seem to have changed
    try:
        yield
    finally:
        index.routes = saved


def answer(c: httpx.Client, method: str, path: str) -> tuple[int, bytes]:
    response = c.request(method, path)
    body = re.sub(rb'"(correlationId|requestId|traceId)":"[^"]*"', b"", response.content)
    return response.status_code, re.sub(rb'"uptimeSeconds":[0-9.]+', b"", body)     # the health check's clock


def test_every_documented_operation_is_found_alike(server, client: httpx.Client) -> None:
    requests: list[tuple[str, str]] = []
    for url in DOCUMENTS:
        document = client.get(url)
        if document.status_code != 200:
            continue
        for path, operations in document.json()["paths"].items():
            concrete = re.sub(r"\{[^}]+\}", "x", path)
            requests += [(method.upper(), concrete) for method in operations if method in ("get", "put", "post",
                                                                                           "patch", "delete")]
    requests += [("GET", "/nowhere/at/all"), ("GET", "/2017-09-01/nowhere"), ("DELETE", "/_callyard/health"),
                 ("GET", "/2017-09-01/users/"), ("GET", "/MiccSdk/api/v1/employees/me"), ("GET", "/"),
                 ("GET", "/media/2017-09-01/endpoints/2880")]
    assert len(requests) > 200
    indexed = [answer(client, method, path) for method, path in requests]
    with full_scan(server.app):
        scanned = [answer(client, method, path) for method, path in requests]
    differ = [(r, a, b) for r, a, b in zip(requests, indexed, scanned, strict=True) if a != b]
    assert not differ, differ[:5]


def test_the_hot_index_matches_by_method_segments_and_literals() -> None:
    index, b = HotIndex(FAMILIES), "/2017-09-01"
    found = index.match("PUT", f"{b}/endpoints/2881/calls/123")
    assert found is not None and found[1] == {"endpointId": "2881", "callId": "123"}
    assert index.match("POST", f"{b}/endpoints/2881/calls/123") is None
    assert index.match("PUT", f"{b}/endpoints/2881/calls/123/x") is None
    assert index.match("PUT", f"{b}/endpoints/2881/calls/") is None          # an empty parameter
    assert index.match("PUT", f"{b}/endpoints/2881/recordings/123") is None
    assert index.match("GET", f"{b}/users") is not None and index.match("GET", f"{b}/users/me") is None
    assert index.match("POST", "/api/cti/acme.example/alice/calls/7/hold") is not None
    assert index.match("POST", "/api/cti/acme.example/alice/calls/7/park") is not None
    assert index.match("POST", "/api/cti/acme.example/alice/calls/7/transfer") is None   # not served hot
    assert index.match("DELETE", "/api/cti/acme.example/alice/calls/7") is not None
    assert index.match("GET", "/api/cti/acme.example/alice/calls/7") is None
