"""The directory's look-ups for the UC and CX families: users by login and extension, accounts by domain,
``{domain}/{user}`` addresses — and that they follow every write, rollback, reset and snapshot import."""
from __future__ import annotations

import pytest

from callyard.core.principal import SYSTEM, Principal
from callyard.core.service import Core

ACME = "ac3e0000-0000-4000-8000-00000000ac3e"
GLOBEX = "610be000-0000-4000-8000-0000000610be"
ALICE = "ac3e0000-0000-4000-8000-000000002880"
BOB = "ac3e0000-0000-4000-8000-000000002881"
ERIN = "610be000-0000-4000-8000-000000002880"


def _id(doc):
    return None if doc is None else doc.get("userId") or doc.get("accountId")


async def test_users_by_login_local_part_or_whole_email_in_any_case(core: Core) -> None:
    d = core.directory
    assert _id(d.user_by_login(ACME, "alice")) == ALICE
    assert _id(d.user_by_login(ACME, "ALICE")) == ALICE
    assert _id(d.user_by_login(ACME, "alice@acme.example")) == ALICE
    assert _id(d.user_by_login(ACME, "Alice@ACME.example")) == ALICE
    assert d.user_by_login(ACME, "alice@globex.example") is None      # a whole address is matched whole
    assert d.user_by_login(GLOBEX, "alice") is None                   # logins are per account
    assert _id(d.user_by_login(GLOBEX, "erin")) == ERIN
    assert d.user_by_login(ACME, "") is None and d.user_by_login(ACME, "nobody") is None


async def test_users_by_extension_per_account(core: Core) -> None:
    d = core.directory
    assert _id(d.user_by_extension(ACME, "2880")) == ALICE
    assert _id(d.user_by_extension(GLOBEX, "2880")) == ERIN
    assert d.user_by_extension(ACME, "4242") is None


async def test_accounts_by_domain_and_user_addresses(core: Core) -> None:
    d = core.directory
    assert _id(d.account_by_domain("acme.example")) == ACME
    assert _id(d.account_by_domain("ACME.Example")) == ACME
    assert _id(d.account_by_domain("globex.example")) == GLOBEX
    assert d.account_by_domain("initech.example") is None
    assert _id(d.resolve_user_address("acme.example/admin")) == "ac3e0000-0000-4000-8000-00000000ad01"
    assert _id(d.resolve_user_address("Acme.Example/Bob@acme.example")) == BOB
    assert _id(d.resolve_user_address("globex.example/erin")) == ERIN
    assert d.resolve_user_address("globex.example/alice") is None
    assert d.resolve_user_address("initech.example/alice") is None
    assert d.resolve_user_address("acme.example") is None


async def test_a_shared_local_part_names_no_one(core: Core) -> None:
    d = core.directory
    await d.create_user(SYSTEM, ACME, {"email": "alice@partner.example"})
    assert d.user_by_login(ACME, "alice") is None
    assert _id(d.user_by_login(ACME, "alice@acme.example")) == ALICE
    assert d.user_by_login(ACME, "alice@partner.example")["email"] == "alice@partner.example"


async def test_lookups_follow_updates_creates_and_deletes(core: Core) -> None:
    d = core.directory
    assert _id(d.user_by_login(ACME, "bob")) == BOB           # builds the indexes before the changes
    await d.update_user(SYSTEM, BOB, {"email": "robert@acme.example", "extension": "2890"}, ACME)
    assert d.user_by_login(ACME, "bob") is None
    assert _id(d.user_by_login(ACME, "robert")) == BOB
    assert d.user_by_extension(ACME, "2881") is None
    assert _id(d.user_by_extension(ACME, "2890")) == BOB
    created = await d.create_user(SYSTEM, ACME, {"email": "Zed@acme.example", "extension": "2899"})
    assert _id(d.resolve_user_address("acme.example/zed")) == created["userId"]
    assert _id(d.user_by_extension(ACME, "2899")) == created["userId"]
    await d.delete_user(SYSTEM, BOB, ACME)
    assert d.user_by_login(ACME, "robert") is None and d.user_by_extension(ACME, "2890") is None
    account = await d.create_account(
        Principal(principal_id="p", account_id="5a3c1e8e-0f7a-4c61-9b57-1d0c2a6f0001", role="PARTNER_ADMIN"),
        {"name": "Initech"})
    assert _id(d.account_by_domain("initech.example")) == account["accountId"]
    await d.delete_account(SYSTEM, account["accountId"])
    assert d.account_by_domain("initech.example") is None


async def test_a_rolled_back_write_leaves_the_lookups_as_they_were(core: Core) -> None:
    d = core.directory
    with pytest.raises(RuntimeError):
        async with core.rt.write() as uow:
            uow.update("user", ALICE, email="alicia@acme.example", extension="2999")
            uow.update("account", ACME, domain="acme-renamed.example")
            # read inside the transaction: the indexes are built from the uncommitted documents …
            assert _id(d.user_by_login(ACME, "alicia")) == ALICE
            assert _id(d.account_by_domain("acme-renamed.example")) == ACME
            raise RuntimeError("abandon the transaction")
    # … and rebuilt from the restored ones after the rollback
    assert d.user_by_login(ACME, "alicia") is None and d.user_by_extension(ACME, "2999") is None
    assert _id(d.user_by_login(ACME, "alice")) == ALICE and _id(d.user_by_extension(ACME, "2880")) == ALICE
    assert d.account_by_domain("acme-renamed.example") is None
    assert _id(d.account_by_domain("acme.example")) == ACME


async def test_reset_and_snapshot_import_rebuild_the_lookups(core: Core) -> None:
    d = core.directory
    await d.update_user(SYSTEM, ALICE, {"email": "alicia@acme.example"}, ACME)
    snapshot = core.export_state()
    await core.reset()
    assert d.user_by_login(ACME, "alicia") is None and _id(d.user_by_login(ACME, "alice")) == ALICE
    await core.import_state(snapshot)
    assert _id(d.user_by_login(ACME, "alicia")) == ALICE and d.user_by_login(ACME, "alice") is None
    assert _id(d.account_by_domain("acme.example")) == ACME
