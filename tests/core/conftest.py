"""In-process cores for the unit tests of the core packages.

Every detail of how a Core is built, started and logged into lives here, so a change of the Core's
constructor (or of how a token becomes a Principal) touches this file only. Tests get a started Core on the
demo tenant (``src/callyard/fixtures/demo-tenant.json``) with a manual clock and a fixed id seed, and the
demo users as Principals obtained the way the façades obtain them: a password grant, then the token verified.
"""
from __future__ import annotations

import copy
from typing import AsyncIterator, Awaitable, Callable

import pytest

from callyard.core.auth.service import IssuedToken
from callyard.core.clock import ManualClock
from callyard.core.errors import CoreError
from callyard.core.ids import Ids
from callyard.core.principal import Principal
from callyard.core.service import Core
from callyard.store.database import MemoryStore

SEED = 11
PASSWORD = "callyard"

PARTNER = "5a3c1e8e-0f7a-4c61-9b57-1d0c2a6f0001"
ACME = "ac3e0000-0000-4000-8000-00000000ac3e"
GLOBEX = "610be000-0000-4000-8000-0000000610be"
ACME_ADMIN = "ac3e0000-0000-4000-8000-00000000ad01"
ALICE = "ac3e0000-0000-4000-8000-000000002880"
BOB = "ac3e0000-0000-4000-8000-000000002881"
CAROL = "ac3e0000-0000-4000-8000-000000002882"
DAVE = "ac3e0000-0000-4000-8000-000000000200"
GLOBEX_ADMIN = "610be000-0000-4000-8000-00000000ad01"
ERIN = "610be000-0000-4000-8000-000000002880"
APP_ID = "c1a0d0e0-5a5a-4e5e-9d9d-00000000a001"
APP_SECRET = "callyard-demo-secret"


async def build_core(seed: int = SEED) -> Core:
    """A started Core on the demo tenant, in memory, on a manual clock."""
    core = Core(MemoryStore(), ManualClock(), Ids(seed), None)
    # The topics a publishing family would register (the core itself knows none).
    core.notifications.register_topics(("platform-api-media", "platform-api-presence",
                                        "platform-api-conversations", "platform-api-admin"))
    await core.start()
    return core


@pytest.fixture
async def core() -> AsyncIterator[Core]:
    core = await build_core()
    yield core
    await core.stop()


async def advance(core: Core, seconds: float) -> None:
    """Move the twin's manual clock, firing the timers due on the way."""
    await core.scheduler.advance(seconds)


def token_for(core: Core, username: str, password: str = PASSWORD) -> IssuedToken:
    """A password grant, as ``POST /token`` makes it."""
    return core.auth.password_grant(username, password, None)


def principal_for(core: Core, username: str) -> Principal:
    """The Principal a façade gets for a fresh token of ``username``."""
    return core.auth.principal(token_for(core, username).access_token)


def app_principal(core: Core) -> Principal:
    """The demo application's client-credentials principal (ACCOUNT_ADMIN on Acme)."""
    grant = core.auth.client_credentials_grant(APP_ID, APP_SECRET, None, {})
    return core.auth.principal(grant.access_token)


@pytest.fixture
def login(core: Core) -> Callable[[str], Principal]:
    return lambda username: principal_for(core, username)


@pytest.fixture
def admin(core: Core) -> Principal:
    """admin@acme.example, ACCOUNT_ADMIN of Acme."""
    return principal_for(core, "admin@acme.example")


@pytest.fixture
def alice(core: Core) -> Principal:
    return principal_for(core, "alice@acme.example")


@pytest.fixture
def bob(core: Core) -> Principal:
    return principal_for(core, "bob@acme.example")


@pytest.fixture
def carol(core: Core) -> Principal:
    return principal_for(core, "carol@acme.example")


@pytest.fixture
def globex_admin(core: Core) -> Principal:
    """admin@globex.example, ACCOUNT_ADMIN of Globex (another customer of the same partner)."""
    return principal_for(core, "admin@globex.example")


@pytest.fixture
def erin(core: Core) -> Principal:
    """erin@globex.example, a USER of Globex."""
    return principal_for(core, "erin@globex.example")


@pytest.fixture
def app(core: Core) -> Principal:
    return app_principal(core)


async def rejected(core: Core, error: type[CoreError], name: str, coro: Awaitable[object]) -> None:
    """``coro`` fails with ``error`` named ``name`` and changes no document."""
    before = copy.deepcopy(core.rt.state.docs)
    with pytest.raises(error) as caught:
        await coro
    assert caught.value.name == name, caught.value.message
    assert core.rt.state.docs == before


@pytest.fixture
def dave(core: Core) -> Principal:
    """dave@acme.example, a Voice agent of Support (extension 200)."""
    return principal_for(core, "dave@acme.example")
