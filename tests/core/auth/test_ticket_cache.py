"""``Tickets.verify`` and ``Tickets.authorize`` remember what they found; whatever would change their answer
(the ticket, its user, the user acted on, the account, the twin's clock) is seen on the next request."""
from __future__ import annotations

import pytest

from callyard.core.auth.tickets import has_cti_licence
from callyard.core.errors import CoreError, Forbidden, Unauthorized
from callyard.core.service import Core
from tests.core.conftest import ACME, ACME_ADMIN, ALICE, BOB, advance


def _fails(error: type[CoreError], name: str, call, *args, **kwargs) -> None:
    with pytest.raises(error) as caught:
        call(*args, **kwargs)
    assert caught.value.name == name, caught.value.message


async def _update(core: Core, kind: str, doc_id: str, **fields) -> None:
    async with core.rt.write() as uow:
        uow.update(kind, doc_id, **fields)


async def _ticket(core: Core, user_id: str, **kwargs) -> str:
    user = core.rt.state.get("user", user_id)
    _doc, token = await core.tickets.create(user, user, apis=("CALL_CONTROL",), platform="other", **kwargs)
    return token


async def test_a_remembered_grant_is_the_same_until_something_changes(core: Core) -> None:
    await _update(core, "user", ALICE, ucLicences=["CLOUD_CTI_API"])
    token = await _ticket(core, ALICE)
    first = core.tickets.verify(token)
    assert core.tickets.verify(token) is first                       # remembered
    target = core.tickets.authorize(first, "CALL_CONTROL", "acme.example", "alice", licence=has_cti_licence)
    assert target["userId"] == ALICE
    assert core.tickets.authorize(first, "CALL_CONTROL", "acme.example", "alice", licence=has_cti_licence) is target
    _fails(Unauthorized, "ticket.not.valid", core.tickets.verify, token + "x")
    _fails(Unauthorized, "ticket.not.valid", core.tickets.verify, token.split(".")[0] + ".other")
    # the user acted on loses the licence: refused at once
    await _update(core, "user", ALICE, ucLicences=[])
    grant = core.tickets.verify(token)
    assert grant is not first and grant.user["ucLicences"] == []
    _fails(Forbidden, "license.missing", core.tickets.authorize, grant, "CALL_CONTROL", "acme.example", "alice",
           licence=has_cti_licence)
    # an API the ticket does not allow is refused with a remembered grant too
    _fails(Forbidden, "api.not.allowed", core.tickets.authorize, grant, "USER", "acme.example", "alice")


async def test_a_remembered_grant_sees_revocation_deactivation_password_and_expiry(core: Core) -> None:
    token = await _ticket(core, ALICE, name="a", expires=60)
    core.tickets.verify(token)
    await advance(core, 61)
    _fails(Unauthorized, "ticket.expired", core.tickets.verify, token)

    token = await _ticket(core, ALICE, name="b")
    core.tickets.verify(token)
    await _update(core, "user", ALICE, tokenVersion=5)              # the password changed
    _fails(Unauthorized, "ticket.not.valid", core.tickets.verify, token)

    token = await _ticket(core, ALICE, name="c")
    core.tickets.verify(token)
    await _update(core, "user", ALICE, active=False)
    _fails(Unauthorized, "user.not.active", core.tickets.verify, token)
    await _update(core, "user", ALICE, active=True)

    token = await _ticket(core, ALICE, name="d")
    core.tickets.verify(token)
    alice = core.rt.state.get("user", ALICE)
    await core.tickets.revoke(alice, alice, "d")
    _fails(Unauthorized, "ticket.not.valid", core.tickets.verify, token)


async def test_a_remembered_target_sees_role_and_domain_changes(core: Core) -> None:
    token = await _ticket(core, ACME_ADMIN)
    admin = core.tickets.verify(token)
    assert core.tickets.authorize(admin, "CALL_CONTROL", "acme.example", "bob")["userId"] == BOB
    await _update(core, "user", ACME_ADMIN, role="USER")
    demoted = core.tickets.verify(token)
    _fails(Forbidden, "access.denied", core.tickets.authorize, demoted, "CALL_CONTROL", "acme.example", "bob")
    await _update(core, "user", ACME_ADMIN, role="ACCOUNT_ADMIN")
    admin = core.tickets.verify(token)
    assert core.tickets.authorize(admin, "CALL_CONTROL", "acme.example", "bob")["userId"] == BOB
    await _update(core, "account", ACME, domain="acme2.example")
    _fails(Forbidden, "access.denied", core.tickets.authorize, admin, "CALL_CONTROL", "acme.example", "bob")
