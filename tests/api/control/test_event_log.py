"""``GET /_callyard/events``: the core's event log, read back in commit order, paged by sequence number,
filtered by type, and showing an account admin only the events of the accounts it can see."""
from __future__ import annotations

from tests.conftest import ACME, auth, token


def _events(client, headers, **params):
    response = client.get("/_callyard/events", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_simulated_call_is_in_the_event_log_in_order(client, admin):
    start = _events(client, admin, after=0, limit=2000)
    cursor = start["next"]
    while start["count"] == 2000:  # skip what earlier tests logged
        start = _events(client, admin, after=cursor, limit=2000)
        cursor = start["next"]
    placed = client.post("/_callyard/sim/calls", json={"from": "+14155550100", "to": "2880"}, headers=admin)
    assert placed.status_code == 201, placed.text
    log = _events(client, admin, after=cursor, type="call.state")
    states = [(e["data"]["endpointId"], e["data"]["state"]) for e in log["_embedded"]["items"]]
    assert ("2880", "ringing") in states
    seqs = [e["seq"] for e in log["_embedded"]["items"]]
    assert seqs == sorted(seqs) and all(s > cursor for s in seqs) and log["next"] == seqs[-1]
    assert {e["accountId"] for e in log["_embedded"]["items"]} == {ACME}
    assert all(e["subject"].startswith("/endpoints/") for e in log["_embedded"]["items"])
    # paging: one at a time gives the same sequence
    one = _events(client, admin, after=cursor, type="call.state", limit=1)
    assert one["count"] == 1 and one["next"] == seqs[0]
    # nothing after the last
    assert _events(client, admin, after=log["next"], type="call.state")["count"] == 0


def test_an_account_admin_sees_only_its_own_accounts_events(client, admin):
    globex = auth(token(client, "admin@globex.example"))
    placed = client.post("/_callyard/sim/calls", json={"from": "+14155550101", "to": "2880"}, headers=admin)
    assert placed.status_code == 201
    seen = _events(client, globex, type="call.*", limit=2000)
    assert all(e["accountId"] != ACME for e in seen["_embedded"]["items"])


def test_bad_parameters_are_refused_in_the_control_envelope(client, admin):
    for params in ({"limit": 0}, {"limit": 5000}, {"after": -1}, {"type": "call.state;drop"}):
        response = client.get("/_callyard/events", params=params, headers=admin)
        assert response.status_code == 400, params
        assert response.json()["name"] == "InvalidQueryParameter"
    response = client.get("/_callyard/events", params={"after": "x"}, headers=admin)
    assert response.status_code == 400 and "name" in response.json()
