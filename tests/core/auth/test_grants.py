"""The OAuth grants and token verification, on the twin's clock."""
from __future__ import annotations

import pytest

from callyard.core.errors import Conflict, CoreError, Forbidden, NotFound, Unauthorized
from callyard.core.service import Core
from tests.core.conftest import ACME, ALICE, APP_ID, APP_SECRET, GLOBEX, PASSWORD, advance, token_for


async def _afails(error: type[CoreError], name: str, coro) -> None:
    with pytest.raises(error) as caught:
        await coro
    assert caught.value.name == name, caught.value.message


def _fails(error: type[CoreError], name: str, call, *args, **kwargs) -> None:
    with pytest.raises(error) as caught:
        call(*args, **kwargs)
    assert caught.value.name == name, caught.value.message


async def test_password_grant_gives_a_token_of_the_user(core: Core) -> None:
    grant = token_for(core, "ALICE@acme.example")  # the username is case-insensitive
    assert grant.expires_in == 3600
    principal = core.auth.principal(grant.access_token)
    assert (principal.principal_id, principal.account_id, principal.role, principal.kind) == (
        ALICE, ACME, "USER", "user")
    assert principal.user_id == ALICE
    # the other login keys work too: userId and mobile
    assert core.auth.principal(token_for(core, ALICE).access_token).user_id == ALICE
    assert core.auth.principal(token_for(core, "+16135550101").access_token).user_id == ALICE


async def test_bad_passwords_and_unknown_users_are_the_same_error(core: Core) -> None:
    _fails(Unauthorized, "InvalidLoginCredentials", core.auth.password_grant, "alice@acme.example", "wrong", None)
    _fails(Unauthorized, "InvalidLoginCredentials", core.auth.password_grant, "nobody@acme.example", PASSWORD, None)
    _fails(Unauthorized, "InvalidLoginCredentials", core.auth.password_grant, "alice@acme.example", "", None)
    _fails(NotFound, "AccountNotFound", core.auth.password_grant, "alice@acme.example", PASSWORD, "no-such-account")
    # scoping the login to another account does not find Acme's Alice
    _fails(Unauthorized, "InvalidLoginCredentials", core.auth.password_grant, "alice@acme.example", PASSWORD, GLOBEX)


async def test_a_username_in_two_accounts_needs_the_account(core: Core, globex_admin) -> None:
    await core.directory.create_user(globex_admin, None, {"email": "alice@acme.example", "password": PASSWORD})
    _fails(Conflict, "MultipleMatching", core.auth.password_grant, "alice@acme.example", PASSWORD, None)
    scoped = core.auth.password_grant("alice@acme.example", PASSWORD, GLOBEX)
    assert core.auth.principal(scoped.access_token).account_id == GLOBEX


async def test_inactive_users_and_accounts_cannot_log_in(core: Core, admin, login) -> None:
    await core.directory.update_user(admin, ALICE, {"active": False})
    _fails(Forbidden, "UserNotActive", core.auth.password_grant, "alice@acme.example", PASSWORD, None)
    bob_token = token_for(core, "bob@acme.example").access_token
    partner = login("partner@callyard.example")
    await core.directory.update_account(partner, ACME, {"active": False})
    from callyard.core.errors import Invalid
    _fails(Invalid, "InactiveAccount", core.auth.password_grant, "bob@acme.example", PASSWORD, None)
    _fails(Forbidden, "InactiveAccount", core.auth.principal, bob_token)


async def test_access_tokens_expire_on_the_twins_clock(core: Core) -> None:
    grant = token_for(core, "alice@acme.example")
    await advance(core, grant.expires_in - 1)
    assert core.auth.principal(grant.access_token).user_id == ALICE
    await advance(core, 1)
    _fails(Unauthorized, "TokenExpired", core.auth.principal, grant.access_token)
    # the refresh token lives on (336 h by default) and gives a fresh access token
    fresh = await core.auth.refresh_grant(grant.refresh_token)
    assert core.auth.principal(fresh.access_token).user_id == ALICE


async def test_the_accounts_token_lifetime_applies(core: Core, admin) -> None:
    await core.directory.update_account(admin, ACME, {"accessTokenExpiryHours": 2, "refreshTokenExpiryHours": 3})
    grant = token_for(core, "alice@acme.example")
    assert grant.expires_in == 7200
    await advance(core, 3 * 3600)
    await _afails(Unauthorized, "TokenExpired", core.auth.refresh_grant(grant.refresh_token))


async def test_refresh_keeps_identity_and_tokens_are_not_interchangeable(core: Core) -> None:
    grant = token_for(core, "bob@acme.example")
    refreshed = await core.auth.refresh_grant(grant.refresh_token)
    assert refreshed.access_token != grant.access_token
    old, new = (core.auth.principal(g.access_token) for g in (grant, refreshed))
    assert new.principal_id == old.principal_id and new.role == old.role
    _fails(Unauthorized, "InvalidToken", core.auth.principal, grant.refresh_token)
    await _afails(Unauthorized, "InvalidToken", core.auth.refresh_grant(grant.access_token))
    _fails(Unauthorized, "InvalidToken", core.auth.principal, grant.access_token[:-4] + "AAAA")
    _fails(Unauthorized, "InvalidToken", core.auth.principal, "not-a-jwt")


async def test_a_deleted_user_loses_token_and_refresh(core: Core, admin) -> None:
    grant = token_for(core, "alice@acme.example")
    await core.directory.delete_user(admin, ALICE)
    _fails(Unauthorized, "InvalidToken", core.auth.principal, grant.access_token)
    await _afails(Forbidden, "UserNotActive", core.auth.refresh_grant(grant.refresh_token))


async def test_refresh_cannot_keep_a_role_the_user_lost(core: Core, admin, login) -> None:
    partner = login("partner@callyard.example")
    await core.directory.update_user(partner, ALICE, {"role": "ACCOUNT_ADMIN"}, ACME)
    grant = token_for(core, "alice@acme.example")
    assert core.auth.principal(grant.access_token).role == "ACCOUNT_ADMIN"
    await core.directory.update_user(partner, ALICE, {"role": "USER"}, ACME)
    assert core.auth.principal((await core.auth.refresh_grant(grant.refresh_token)).access_token).role == "USER"


async def test_client_credentials_with_the_demo_app(core: Core) -> None:
    grant = core.auth.client_credentials_grant(APP_ID, APP_SECRET, None, {})
    principal = core.auth.principal(grant.access_token)
    # registered by the partner, enabled on Acme only: the token acts in Acme with the registered role
    assert (principal.kind, principal.account_id, principal.role) == ("client", ACME, "ACCOUNT_ADMIN")
    assert principal.client_id == APP_ID and principal.user_id is None
    refreshed = core.auth.principal((await core.auth.refresh_grant(grant.refresh_token)).access_token)
    assert (refreshed.kind, refreshed.client_id, refreshed.account_id) == ("client", APP_ID, ACME)


async def test_client_credentials_rejections(core: Core) -> None:
    # the real spec's names: an unknown client is ClientNotFound, a wrong secret ClientSecretMismatch
    _fails(Unauthorized, "ClientSecretMismatch", core.auth.client_credentials_grant, APP_ID, "wrong", None, {})
    _fails(NotFound, "ClientNotFound", core.auth.client_credentials_grant,
           "c1a0d0e0-0000-4000-8000-000000000000", APP_SECRET, None, {})
    # the demo app is not enabled on Globex
    _fails(Forbidden, "InvalidClient", core.auth.client_credentials_grant, APP_ID, APP_SECRET, GLOBEX, {})


async def test_anonymous_principals_cannot_impersonate_users_or_outrank_the_app(core: Core) -> None:
    from callyard.core.errors import Invalid

    for fields in ({"principalId": ALICE}, {"email": "alice@acme.example"}, {"role": "PARTNER_ADMIN"},
                   {"role": "EMPEROR"}):
        _fails(Invalid, "InvalidPrincipals", core.auth.client_credentials_grant, APP_ID, APP_SECRET, None, fields)
    grant = core.auth.client_credentials_grant(APP_ID, APP_SECRET, None, {"principalId": "kiosk-1", "name": "Kiosk"})
    principal = core.auth.principal(grant.access_token)
    assert (principal.kind, principal.principal_id, principal.role, principal.user_id) == (
        "anonymous", "kiosk-1", "USER", None)


async def test_assume_role_only_downwards(core: Core, admin, alice) -> None:
    from callyard.core.errors import Invalid

    _fails(Invalid, "AssumeRoleHigh", core.auth.assume_role, alice, "ACCOUNT_ADMIN", None)
    _fails(Invalid, "InvalidRole", core.auth.assume_role, admin, "OVERLORD", None)
    _fails(Forbidden, "ImpersonationNotAllowed", core.auth.assume_role, admin, "USER", GLOBEX)
    lowered = core.auth.principal(core.auth.assume_role(admin, "USER", None).access_token)
    assert lowered.role == "USER" and lowered.user_id == admin.user_id


async def test_a_family_is_kept_while_its_newest_refresh_token_lives(core: Core) -> None:
    grant = token_for(core, "alice@acme.example")
    assert not list(core.rt.state.all("token_family"))            # issuing writes nothing
    fresh = await core.auth.refresh_grant(grant.refresh_token)
    [family] = core.rt.state.all("token_family")
    assert family["accountId"] == ACME and not family["revoked"]
    await advance(core, 13 * 86400)                                 # 14 days from the refresh: still kept
    assert await core.auth.purge_families() == 0 and len(list(core.rt.state.all("token_family"))) == 1
    await advance(core, 2 * 86400)                                  # the hourly sweep runs on the way
    assert not list(core.rt.state.all("token_family"))
    await _afails(Unauthorized, "TokenExpired", core.auth.refresh_grant(fresh.refresh_token))
