"""Directory rules for groups and accounts: membership is of the account's users, self-join only of PUBLIC
groups, account settings validated, isolation between customer accounts."""
from __future__ import annotations

import copy

import pytest

from callyard.core.errors import Forbidden, Invalid, NotFound
from callyard.core.service import Core
from tests.core.conftest import ACME, ALICE, BOB, CAROL, ERIN, GLOBEX

SALES = "ac3e0000-0000-4000-8000-00000000510a"


async def test_group_members_must_be_users_of_the_account(core: Core, admin) -> None:
    before = copy.deepcopy(core.rt.state.docs)
    for members, fragment in (([{"memberId": ERIN}], "is not a user of this account"),
                              ([{"memberId": ALICE, "status": "MAYBE"}], "status"),
                              ([{"memberId": ALICE, "role": "boss"}], "additional properties"),
                              ("alice", "array")):
        with pytest.raises(Invalid) as caught:
            await core.directory.create_group(admin, None, {"name": "Team", "members": members})
        assert caught.value.name == "ValidationError" and fragment in caught.value.message
    assert core.rt.state.docs == before
    group = await core.directory.create_group(admin, None, {"name": "Team", "members": [
        {"memberId": ALICE}, {"memberId": ALICE, "status": "INVITED"}, {"memberId": BOB}]})
    # one entry per member, the last mention wins
    assert group["members"] == [{"memberId": ALICE, "status": "INVITED", "type": "USER"},
                                {"memberId": BOB, "status": "ACCEPTED", "type": "USER"}]


async def test_a_user_may_only_join_a_public_group_themselves(core: Core, admin, alice) -> None:
    private = await core.directory.create_group(admin, None, {"name": "Board", "visibility": "PRIVATE"})
    with pytest.raises(Forbidden) as caught:
        await core.directory.add_members(alice, private["groupId"], None, {"memberId": ALICE})
    assert caught.value.name == "InsufficientPermissions"
    with pytest.raises(Forbidden):
        await core.directory.add_members(alice, SALES, None, {"memberId": CAROL})  # someone else
    joined = await core.directory.add_members(alice, SALES, None, {"memberId": ALICE})
    assert ALICE in [m["memberId"] for m in joined["members"]]
    # and leaves again, but cannot remove others
    with pytest.raises(Forbidden):
        await core.directory.remove_member(alice, SALES, None, BOB)
    left = await core.directory.remove_member(alice, SALES, None, ALICE)
    assert ALICE not in [m["memberId"] for m in left["members"]]
    with pytest.raises(NotFound) as missing:
        await core.directory.remove_member(admin, SALES, None, ALICE)
    assert missing.value.name == "MemberNotFound"


async def test_groups_of_another_account_are_not_found(core: Core, globex_admin) -> None:
    with pytest.raises(NotFound) as caught:
        core.directory.get_group(globex_admin, SALES, None)
    assert caught.value.name == "GroupNotFound"
    with pytest.raises(Forbidden):
        await core.directory.delete_group(globex_admin, SALES, ACME)
    assert core.rt.state.get("group", SALES) is not None


async def test_account_settings_are_validated(core: Core, admin, alice) -> None:
    d = core.directory
    before = copy.deepcopy(core.rt.state.get("account", ACME))
    for fields in ({"accessTokenExpiryHours": 0}, {"refreshTokenExpiryHours": -1},
                   {"accessTokenExpiryHours": "1"}, {"languageCode": "nope"}, {"policy": "open"},
                   {"accountNumber": "1"}):
        with pytest.raises(Invalid) as caught:
            await d.update_account(admin, ACME, fields)
        assert caught.value.name == "ValidationError", fields
    with pytest.raises(Forbidden):
        await d.update_account(alice, ACME, {"name": "Alice's"})
    assert core.rt.state.get("account", ACME) == before
    updated = await d.update_account(admin, ACME, {"policy": {"allowGuestAccess": True}})
    # a policy change merges into the policy
    assert updated["policy"] == {**before["policy"], "allowGuestAccess": True}


async def test_account_visibility(core: Core, admin, globex_admin, login) -> None:
    partner = login("partner@callyard.example")
    assert [a["accountId"] for a in core.directory.list_accounts(admin)] == [ACME]
    assert {a["accountId"] for a in core.directory.list_accounts(partner)} >= {ACME, GLOBEX}
    with pytest.raises(Forbidden):
        core.directory.get_account(globex_admin, ACME)
    with pytest.raises(NotFound) as missing:
        core.directory.get_account(admin, "no-such-account")
    assert missing.value.name == "AccountNotFound"
    # an account number names the account too
    assert core.directory.get_account(admin, "858000055")["accountId"] == ACME


async def test_only_a_partner_creates_and_deletes_customer_accounts(core: Core, admin, login) -> None:
    partner = login("partner@callyard.example")
    with pytest.raises(Forbidden):
        await core.directory.create_account(admin, {"name": "Initech"})
    with pytest.raises(Invalid):
        await core.directory.create_account(partner, {"name": "  "})
    initech = await core.directory.create_account(partner, {"name": "Initech"})
    assert initech["type"] == "CUSTOMER" and initech["parentAccountId"] == partner.account_id
    with pytest.raises(Forbidden):
        await core.directory.delete_account(partner, partner.account_id)  # not itself
    await core.directory.delete_account(partner, GLOBEX)
    assert core.rt.state.get("account", GLOBEX) is None
    assert not [u for u in core.rt.state.all("user") if u["accountId"] == GLOBEX]
