"""The same storage behaviour on SQLite (the embedded default) and PostgreSQL: writes acknowledged with 2xx
survive a restart; the signing key persists; Alembic brings an empty database to head."""
from __future__ import annotations

import asyncio
import os
import uuid

import httpx
import pytest

from tests.conftest import ACME, ALICE, auth, png_bytes, start_server, token

PG_ADMIN = os.environ.get("CALLYARD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_database():
    asyncpg = pytest.importorskip("asyncpg")
    name = "callyard_test_" + uuid.uuid4().hex[:8]

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + "/" + name
    return url, lambda: asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def storage(request, tmp_path):
    if request.param == "sqlite":
        yield {"ephemeral": False, "data_dir": tmp_path / "data"}
    else:
        url, drop = _pg_database()
        try:
            yield {"ephemeral": False, "database_url": url}
        finally:
            drop()


def test_writes_survive_a_restart(storage):
    with start_server(**storage) as live, httpx.Client(base_url=live.url) as c:
        admin = auth(token(c, "admin@acme.example"))
        created = c.post(f"/2017-09-01/accounts/{ACME}/users", json={"email": "new@acme.example", "password": "pw"},
                         headers=admin)
        assert created.status_code == 201
        new_id = created.json()["userId"]
        assert c.put(f"/2017-09-01/users/{ALICE}", json={"name": "Alice Renamed"}, headers=admin).status_code == 200
        photo = c.put(f"/2017-09-01/users/{ALICE}/photo", content=png_bytes(),
                      headers={**admin, "content-type": "image/png"})
        assert photo.status_code == 200
        avatar = photo.json()["avatars"]["50"].split("/_callyard/")[1]
        group = c.post(f"/2017-09-01/accounts/{ACME}/groups", json={"name": "Sales", "members": [{"memberId": ALICE}]},
                       headers=admin)
        assert group.status_code == 201
        jwks = c.get(f"/2017-09-01/accounts/{ACME}/.well-known/jwks.json").json()
        old_token = token(c, "bob@acme.example")
    with start_server(**storage) as live, httpx.Client(base_url=live.url) as c:
        assert c.get(f"/2017-09-01/accounts/{ACME}/.well-known/jwks.json").json() == jwks
        bob = auth(old_token)  # the key persisted: a token from before the restart still works
        users = {u["userId"]: u for u in c.get("/2017-09-01/users", headers=bob).json()["_embedded"]["items"]}
        assert new_id in users and users[ALICE]["name"] == "Alice Renamed"
        assert c.get(f"/_callyard/{avatar}").status_code == 200
        groups = c.get("/2017-09-01/groups", headers=bob).json()["_embedded"]["items"]
        assert group.json()["groupId"] in {g["groupId"] for g in groups}
        assert token(c, "new@acme.example", "pw")


def test_rejected_write_changes_nothing_durable(storage):
    with start_server(**storage) as live, httpx.Client(base_url=live.url) as c:
        admin = auth(token(c, "admin@acme.example"))
        r = c.post(f"/2017-09-01/accounts/{ACME}/users", json={"email": "bob@acme.example"}, headers=admin)
        assert r.status_code == 409
        r = c.put(f"/2017-09-01/users/{ALICE}/photo", content=b"not an image",
                  headers={**admin, "content-type": "image/png"})
        assert r.status_code == 400
    with start_server(**storage) as live, httpx.Client(base_url=live.url) as c:
        admin = auth(token(c, "admin@acme.example"))
        users = c.get("/2017-09-01/users", headers=admin).json()["_embedded"]["items"]
        assert sum(u["email"] == "bob@acme.example" for u in users) == 1
        assert "photoUrl" not in next(u for u in users if u["userId"] == ALICE)


def test_migrations_match_the_table_definitions(tmp_path):
    import sqlalchemy as sa

    from callyard.store.database import SqlStore
    from callyard.store.tables import metadata

    store = SqlStore(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    asyncio.run(store.open())
    asyncio.run(store.close())
    inspector = sa.inspect(sa.create_engine(f"sqlite:///{tmp_path / 'm.db'}"))
    for table in metadata.sorted_tables:
        assert {c["name"] for c in inspector.get_columns(table.name)} == {c.name for c in table.columns}
    assert "alembic_version" in inspector.get_table_names()
