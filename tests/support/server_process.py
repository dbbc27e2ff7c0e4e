"""``callyard serve`` as a child process, for tests that kill it: ``kill()`` sends SIGKILL (no shutdown, no
flush beyond what each commit already did) and ``start()`` runs it again on the same store. Also a fresh
PostgreSQL database per use (``postgres_database``), dropped afterwards.

The server's output goes to ``log`` (a file), so a failing test can show what the process said."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

import httpx
import pytest

from tests.conftest import free_port

PG_ADMIN = os.environ.get("CALLYARD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


class ServerProcess:
    def __init__(self, log: Path, *, data: Path | None = None, database_url: str | None = None,
                 args: Sequence[str] = ("--open-control",), port: int | None = None) -> None:
        assert (data is None) != (database_url is None), "one store: a data directory or a database URL"
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        store = ["--data", str(data)] if data is not None else ["--database-url", str(database_url)]
        self.command = [sys.executable, "-m", "callyard.cli.main", "serve", "--port", str(self.port), *store,
                        "--log-level", "warning", *args]
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, timeout: float = 30.0) -> "ServerProcess":
        assert self.process is None, "already running"
        with self.log.open("ab") as out:
            out.write(f"--- start {self.starts + 1}\n".encode())
            out.flush()
            self.process = subprocess.Popen(self.command, stdout=out, stderr=subprocess.STDOUT)
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.url}/_callyard/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"callyard did not start; its log:\n{self.output()[-4000:]}")

    def kill(self) -> None:
        """SIGKILL: the process dies at once, whatever it was doing."""
        if self.process is not None:
            if self.process.poll() is None:
                os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
            self.process = None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def __enter__(self) -> "ServerProcess":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


@contextmanager
def postgres_database(prefix: str = "callyard_test") -> Iterator[str]:
    """A new, empty PostgreSQL database (``{prefix}_{random}``) as a ``postgresql+asyncpg://`` URL; dropped on
    exit. Skips the test, naming the server, when PostgreSQL cannot be reached."""
    import asyncpg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    try:
        asyncio.run(run(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL at {PG_ADMIN} is not reachable ({type(exc).__name__}: {exc}); "
                    "set CALLYARD_TEST_PG to run this variant")
    try:
        yield PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + "/" + name
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
