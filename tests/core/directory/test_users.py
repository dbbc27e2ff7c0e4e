"""Directory rules for users: who may create, change and delete whom, field validation, and that a
rejected write changes nothing."""
from __future__ import annotations

import copy

import pytest

from callyard.core.errors import Conflict, CoreError, Forbidden, Invalid, NotFound
from callyard.core.principal import SYSTEM
from callyard.core.service import Core
from tests.core.conftest import ACME, ALICE, BOB, GLOBEX, PARTNER


def _snapshot(core: Core) -> dict:
    return copy.deepcopy(core.rt.state.docs)


async def _rejected(core: Core, error: type[CoreError], name: str, coro) -> CoreError:
    """Awaits a write that must fail with ``error``/``name`` and leave every document as it was."""
    before = _snapshot(core)
    with pytest.raises(error) as caught:
        await coro
    assert caught.value.name == name, caught.value.message
    assert core.rt.state.docs == before
    return caught.value


async def test_an_admin_creates_a_user_with_defaults_who_can_log_in(core: Core, admin) -> None:
    user = await core.directory.create_user(admin, None, {"email": "Zed@Acme.Example", "password": "s3cret!"})
    assert user["accountId"] == ACME and user["role"] == "USER" and user["uniqueUserId"] == user["userId"]
    assert user["email"] == "Zed@acme.example"  # the domain is normalised
    assert user["name"] == "Zed" and user["active"] is True and user["userVerified"] is True
    assert core.directory.get_user(admin, user["userId"]) == user
    zed = core.auth.principal(core.auth.password_grant("zed@acme.example", "s3cret!", None).access_token)
    assert zed.user_id == user["userId"] and zed.role == "USER"


async def test_field_validation(core: Core, admin) -> None:
    d = core.directory
    await _rejected(core, Invalid, "ValidationError", d.create_user(admin, None, {"name": "No Mail"}))
    await _rejected(core, Invalid, "ValidationError", d.create_user(admin, None, {"email": "not-an-address"}))
    await _rejected(core, Invalid, "ValidationError",
                    d.create_user(admin, None, {"email": "x@acme.example", "shoeSize": 9}))
    await _rejected(core, Invalid, "ValidationError",
                    d.create_user(admin, None, {"email": "x@acme.example", "languageCode": "English"}))
    await _rejected(core, Invalid, "ValidationError",
                    d.create_user(admin, None, {"email": "x@acme.example", "extension": 2999}))
    await _rejected(core, Invalid, "ValidationError",
                    d.create_user(admin, None, {"email": "x@acme.example", "role": "KING"}))
    # PARTNER_ADMIN is only for users of a partner account; and an ACCOUNT_ADMIN cannot give it anyway
    await _rejected(core, Forbidden, "InsufficientPermissions",
                    d.create_user(admin, None, {"email": "x@acme.example", "role": "PARTNER_ADMIN"}))
    # the legacy route only makes USERs
    await _rejected(core, Invalid, "ValidationError",
                    d.create_user(admin, None, {"email": "x@acme.example", "role": "ACCOUNT_ADMIN"}, restricted=True))


async def test_uniqueness_within_the_account_and_of_login_ids_everywhere(core: Core, admin, globex_admin) -> None:
    d = core.directory
    await _rejected(core, Conflict, "ConditionalCheckFailedException",
                    d.create_user(admin, None, {"email": "ALICE@acme.example"}))      # e-mail, any case
    await _rejected(core, Conflict, "ConditionalCheckFailedException",
                    d.create_user(admin, None, {"email": "new@acme.example", "extension": "2881"}))
    await _rejected(core, Conflict, "ConditionalCheckFailedException",
                    d.create_user(admin, None, {"email": "new@acme.example", "userId": BOB}))
    # a userId of another account is a login name too: it may not be reused as a uniqueUserId in Globex
    await _rejected(core, Conflict, "ConditionalCheckFailedException",
                    d.create_user(globex_admin, None, {"email": "new@globex.example", "uniqueUserId": ALICE}))
    # the same e-mail or extension in another account is fine
    other = await d.create_user(globex_admin, None, {"email": "alice@acme.example", "extension": "2881"})
    assert other["accountId"] == GLOBEX


async def test_the_user_limit_holds(core: Core, admin) -> None:
    await core.directory.update_account(admin, ACME, {"userLimit": len(core.directory.users_of(ACME))})
    await _rejected(core, Conflict, "ConditionalCheckFailedException",
                    core.directory.create_user(admin, None, {"email": "one.more@acme.example"}))


async def test_a_user_is_not_an_admin(core: Core, alice) -> None:
    await _rejected(core, Forbidden, "InsufficientPermissions",
                    core.directory.create_user(alice, None, {"email": "x@acme.example"}))
    await _rejected(core, Forbidden, "InsufficientPermissions", core.directory.delete_user(alice, BOB))
    await _rejected(core, Forbidden, "InsufficientPermissions",
                    core.directory.update_user(alice, BOB, {"name": "Robert"}))


async def test_a_user_edits_only_their_own_self_editable_fields(core: Core, alice) -> None:
    d = core.directory
    updated = await d.update_user(alice, ALICE, {"name": "Alice A.", "languageCode": "fr-CA"})
    assert updated["name"] == "Alice A." and updated["languageCode"] == "fr-CA" and updated["modifiedBy"] == ALICE
    for fields in ({"role": "ACCOUNT_ADMIN"}, {"extension": "2999"}, {"email": "a2@acme.example"}, {"active": False}):
        await _rejected(core, Forbidden, "InsufficientPermissions", d.update_user(alice, ALICE, fields))


async def test_immutable_ids_and_role_ceiling(core: Core, admin) -> None:
    d = core.directory
    await _rejected(core, Invalid, "ValidationError", d.update_user(admin, ALICE, {"userId": BOB}))
    await _rejected(core, Invalid, "ValidationError", d.update_user(admin, ALICE, {"uniqueUserId": "alice2"}))
    await _rejected(core, Forbidden, "InsufficientPermissions", d.update_user(admin, ALICE, {"role": "GLOBAL_ADMIN"}))
    promoted = await d.update_user(admin, ALICE, {"role": "ACCOUNT_ADMIN"})
    assert promoted["role"] == "ACCOUNT_ADMIN"


async def test_another_accounts_admin_cannot_touch_acme_users(core: Core, globex_admin) -> None:
    d = core.directory
    await _rejected(core, Forbidden, "InsufficientPermissions", d.update_user(globex_admin, ALICE, {"name": "x"}, ACME))
    await _rejected(core, Forbidden, "InsufficientPermissions", d.delete_user(globex_admin, ALICE, ACME))
    await _rejected(core, Forbidden, "InsufficientPermissions",
                    d.create_user(globex_admin, ACME, {"email": "spy@acme.example"}))
    # without naming Acme, an Acme user id is simply not one of Globex's
    await _rejected(core, NotFound, "UserNotFound", d.update_user(globex_admin, ALICE, {"name": "x"}))
    await _rejected(core, NotFound, "UserNotFound", d.delete_user(globex_admin, ALICE))
    with pytest.raises(Forbidden):
        d.list_users(globex_admin, ACME)


async def test_the_partner_admin_manages_its_customers(core: Core, login) -> None:
    partner = login("partner@callyard.example")
    updated = await core.directory.update_user(partner, ALICE, {"name": "Alice by Partner"}, ACME)
    assert updated["name"] == "Alice by Partner"


async def test_deleting_a_user_removes_them_from_groups_and_logins(core: Core, admin, carol) -> None:
    support = "ac3e0000-0000-4000-8000-00000000500a"
    assert ALICE in [m["memberId"] for m in core.directory.get_group(admin, support, None)["members"]]
    await core.directory.delete_user(admin, ALICE)
    assert ALICE not in [m["memberId"] for m in core.directory.get_group(admin, support, None)["members"]]
    with pytest.raises(NotFound) as gone:
        core.directory.get_user(admin, ALICE)
    assert gone.value.name == "UserNotFound"
    with pytest.raises(CoreError) as login:
        core.auth.password_grant("alice@acme.example", "callyard", None)
    assert login.value.name == "InvalidLoginCredentials"
    await _rejected(core, NotFound, "UserNotFound", core.directory.delete_user(admin, ALICE))


async def test_an_admin_cannot_delete_or_change_a_higher_role(core: Core, admin, login) -> None:
    partner = login("partner@callyard.example")
    # equal roles may act on each other: a second Acme admin, made by the partner admin
    second = await core.directory.create_user(partner, ACME, {"email": "ada2@acme.example", "role": "ACCOUNT_ADMIN"})
    assert (await core.directory.update_user(admin, second["userId"], {"name": "Ada Two"}))["name"] == "Ada Two"
    # a GLOBAL_ADMIN living in Acme (only the control plane can make one) is out of an ACCOUNT_ADMIN's reach
    root = await core.directory.create_user(SYSTEM, ACME, {"email": "root@acme.example", "role": "GLOBAL_ADMIN"})
    await _rejected(core, Forbidden, "InsufficientPermissions", core.directory.delete_user(admin, root["userId"]))
    await _rejected(core, Forbidden, "InsufficientPermissions",
                    core.directory.update_user(admin, root["userId"], {"name": "demoted?"}))
    await _rejected(core, Forbidden, "InsufficientPermissions",
                    core.directory.update_user(admin, root["userId"], {"role": "USER"}))
    # and an Acme admin cannot reach the partner account's users at all
    await _rejected(core, Forbidden, "InsufficientPermissions",
                    core.directory.delete_user(admin, "b0b0b0b0-0000-4000-8000-000000000001", PARTNER))


async def test_events_are_emitted_without_secrets(core: Core, admin) -> None:
    seen = []
    unsubscribe = core.projections.subscribe(lambda event: seen.append(event))
    try:
        user = await core.directory.create_user(admin, None, {"email": "pw@acme.example", "password": "pw-pw-pw"})
    finally:
        unsubscribe()
    created = [e for e in seen if e.type == "user.created"]
    assert len(created) == 1 and created[0].account_id == ACME and created[0].subject == f"/users/{user['userId']}"
    assert "passwordHash" not in created[0].data and "passwordHash" in core.rt.state.get("user", user["userId"])
