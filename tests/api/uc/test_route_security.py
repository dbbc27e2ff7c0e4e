"""Every route of the UC family (from its own /api/openapi.json), against the same authorisation properties:
no ticket → 401; a garbage or revoked ticket → 401; HTTP Basic where a ticket is required → 401; a ticket
without the route's API group → 403; another organisation's ticket → 403 (never another domain's data); a
user's ticket on another user → 403; carol (no CTI licence) → 403 on CTI. Every refusal is a ValidationResult.
The ticket routes themselves (Basic or a superuser ticket) are covered in test_edge_and_tickets.py."""
from __future__ import annotations

import re

import httpx
import pytest

from callyard.api.uc.edge.openapi import build_document
from callyard.api.uc.family import ROUTERS
from tests.api.uc.conftest import create_ticket
from tests.conftest import PASSWORD

DOCUMENT = build_document(ROUTERS)
ROUTES = sorted((method.upper(), path) for path, methods in DOCUMENT["paths"].items() for method in methods
                if not path.startswith("/api/tickets/"))
FILL = {"domain": "acme.example", "userId": "alice", "user": "alice", "callId": "12345678",
        "deviceId": "2.00000000-0000-0000-0000-000000000000", "participantId": "87654321", "targetId": "t1",
        "transferId": "1", "externalId": "crm-1", "itemId": "1", "itemid": "1", "grpid": "5000",
        "grpid_domain": "acme.example", "group": "5000", "group_domain": "acme.example", "agent": "alice",
        "aptype": "mobile", "cid": "2881", "queueId": "5000", "id": "12345678", "to": "2881"}


def url(path: str, **overrides: str) -> str:
    values = {**FILL, **overrides}
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


# Path prefix → the API groups a ticket may name for it, any one of them (README, "UC User API"). A new router
# adds its prefix here.
GROUPS = {"/api/cti/": ("CALL_CONTROL",), "/api/device/info/v1/": ("USER", "CALL_CONTROL"),
          "/api/userline/": ("USER", "CALL_CONTROL"), "/api/calls/": ("CALLS",), "/api/linestate/": ("CALLS", "USER"),
          "/api/commlog/": ("CALLS", "USER"), "/api/acd/": ("USER",), "/api/v2/acd/": ("USER",),
          "/api/distributiongroup/": ("USER",), "/api/queue/statistics/": ("QUEUE_STATISTICS",),
          "/api/queuestatistics/": ("QUEUE_STATISTICS",), "/api/callrecording/": ("CALL_CONTROL", "CALLS"),
          "/api/user/sms/": ("SMS",)}
# Routes naming no user: another user's ticket is refused by the organisation's rule (a Supervisor licence).
ORGANISATION_ROUTES = ("/api/queue/statistics/{domain}", "/api/queuestatistics/{domain}")
# Routes naming no domain nor user: they act on the ticket's own user (another's ticket acts on its own).
OWN_USER_ROUTES = ("/api/user/sms/{to}",)


def groups_of(path: str) -> tuple[str, ...]:
    return next((groups for prefix, groups in GROUPS.items() if path.startswith(prefix)), ())


def refused(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: " \
                                           f"{response.status_code} {response.text}"
    body = response.json()
    assert set(body) == {"field", "warning", "generated-id"} and body["field"], body
    if code is not None:
        assert body["field"][0]["code"] == code, body


@pytest.mark.parametrize("method,path", ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_route_authorisation(client, method: str, path: str) -> None:
    send = lambda target, **kw: client.request(method, target, **kw)  # noqa: E731
    refused(send(url(path)), 401, "ticket.required")
    refused(send(url(path), headers={"Authorization": "Bearer 1.garbage"}), 401, "ticket.not.valid")
    refused(send(url(path), params={"t": "1.garbage"}), 401, "ticket.not.valid")
    refused(send(url(path), auth=("alice@acme.example", PASSWORD)), 401, "ticket.required")
    groups = groups_of(path)
    group = groups[0]
    other_groups = [g for g in ("CALL_CONTROL", "CALLS", "USER", "QUEUE_STATISTICS", "CONTACT_SEARCH", "SMS")
                    if g not in groups]
    narrow = create_ticket(client, "alice@acme.example", other_groups)
    refused(send(url(path), headers={"Authorization": f"Bearer {narrow['token']}"}), 403, "api.not.allowed")
    if path in OWN_USER_ROUTES:
        revoked = create_ticket(client, "alice@acme.example", (group,), name="soon-gone")
        assert client.delete("/api/tickets/acme.example/alice/soon-gone",
                             auth=("alice@acme.example", PASSWORD)).status_code == 200
        refused(send(url(path), headers={"Authorization": f"Bearer {revoked['token']}"}), 401, "ticket.not.valid")
        return
    erin = create_ticket(client, "erin@globex.example", (group,))
    refused(send(url(path), headers={"Authorization": f"Bearer {erin['token']}"}), 403, "access.denied")
    globex_admin = create_ticket(client, "admin@globex.example", (group,))
    refused(send(url(path), headers={"Authorization": f"Bearer {globex_admin['token']}"}), 403, "access.denied")
    bob = create_ticket(client, "bob@acme.example", (group,))
    refused(send(url(path), headers={"Authorization": f"Bearer {bob['token']}"}), 403,
            None if path in ORGANISATION_ROUTES else "access.denied")
    if path.startswith("/api/cti/"):
        carol = create_ticket(client, "carol@acme.example", (group,))
        refused(send(url(path, userId="carol", user="carol"), headers={"Authorization": f"Bearer {carol['token']}"}),
                403, "license.missing")
    revoked = create_ticket(client, "alice@acme.example", (group,), name="soon-gone")
    assert client.delete("/api/tickets/acme.example/alice/soon-gone", auth=("alice@acme.example", PASSWORD)) \
        .status_code == 200
    refused(send(url(path), headers={"Authorization": f"Bearer {revoked['token']}"}), 401, "ticket.not.valid")


def test_every_route_is_enumerated() -> None:
    assert len(ROUTES) >= 33 + 50 and [path for _m, path in ROUTES if not groups_of(path)] == []
