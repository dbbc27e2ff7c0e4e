"""Every shell block of README.md runs, as typed, against a started twin — so the README cannot drift.

How it works:

* The shell blocks are the fenced blocks marked ``sh``, ``bash`` or ``shell`` (other languages, such as the
  ``python`` SDK example, and unmarked blocks such as the layout tree are not run).
* A block that must not run carries an HTML comment on the line just above its fence::

      <!-- readme-test: skip (the reason) -->

  The reason is required. Use it for blocks that start or install things (``make run``, ``make test``,
  ``make install``), that run for minutes, or whose non-zero exit status is their point. Every other block
  runs — also blocks that later sections add (a ``curl`` against the twin just runs).
* The twin is a real server on a free port with the real clock and the built-in demo tenant. In each block,
  ``http://127.0.0.1:8080`` (the README's address) becomes that server's address, and the environment is the
  one the README tells a reader to set up: ``.venv`` activated (the ``callyard`` command on the ``PATH``)
  and ``CALLYARD_SERVER`` pointing at the server. Blocks run from the checkout's root, in README order, each
  in its own ``bash -e -o pipefail`` (a failing command fails the block), with a timeout.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import LiveServer, free_port, start_server

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SHELLS = ("sh", "bash", "shell", "console")
FENCE = re.compile(r"^```(\S*)\s*$")
SKIP = re.compile(r"^<!--\s*readme-test:\s*skip\s*\((?P<reason>[^)]+)\)\s*-->\s*$")
README_SERVER = "http://127.0.0.1:8080"
TIMEOUT = 120


def shell_blocks(text: str) -> list[tuple[str, int, str, str | None]]:
    """(section heading, line number, code, skip reason) of every shell block, in order."""
    blocks = []
    lines = text.splitlines()
    heading, i = "top", 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#") and not line.startswith("#!"):
            heading = line.lstrip("#").strip()
        fence = FENCE.match(line)
        if fence is None:
            i += 1
            continue
        start, language = i, fence.group(1).lower()
        i += 1
        body = []
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        i += 1
        if language not in SHELLS:
            continue
        above = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        marker = SKIP.match(above.strip())
        blocks.append((heading, start + 1, "\n".join(body) + "\n", marker.group("reason") if marker else None))
    return blocks


BLOCKS = shell_blocks(README.read_text())


def test_the_readme_has_shell_blocks_and_every_skip_says_why() -> None:
    assert len(BLOCKS) >= 5
    assert [b for b in BLOCKS if b[3] is None], "every block is skipped"
    for heading, line, _code, reason in BLOCKS:
        assert reason is None or len(reason.strip()) > 10, f"README.md:{line} ({heading}): say why it is skipped"
    text = README.read_text()
    stray = [m.group(0) for m in re.finditer(r"<!--\s*readme-test[^>]*-->", text) if not SKIP.match(m.group(0))]
    assert stray == [], f"malformed readme-test markers: {stray}"


@pytest.fixture(scope="module")
def twin() -> Iterator[LiveServer]:
    # real clock, demo tenant, in memory; an SMTP listener for `callyard email` ($CALLYARD_SMTP)
    with start_server(smtp_listen=f"127.0.0.1:{free_port()}") as live:
        yield live


def _environment(twin: LiveServer) -> dict[str, str]:
    """What the README has the reader set up: .venv's bin on the PATH (activated), the server's address."""
    bin_dir = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CALLYARD_", "CLOUDLINK_"))}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(Path(bin_dir).parent),
               CALLYARD_SERVER=twin.url, PYTHONPATH=str(ROOT / "src"), CALLYARD_SMTP=str(twin.settings.smtp_listen))
    return env


def _block_id(heading: str, line: int) -> str:
    return f"L{line}-" + re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")


@pytest.mark.parametrize("heading,line,code,reason", BLOCKS, ids=[_block_id(h, line) for h, line, _, _ in BLOCKS])
def test_readme_block_runs(twin: LiveServer, heading: str, line: int, code: str, reason: str | None) -> None:
    if reason is not None:
        pytest.skip(f"README.md:{line} is marked: {reason}")
    script = code.replace(README_SERVER, twin.url)
    done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=ROOT, env=_environment(twin),
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, (f"README.md:{line} ({heading}) exited {done.returncode}\n--- block\n{code}"
                                  f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}")


def test_make_run_passes_options_through() -> None:
    done = subprocess.run(["make", "-n", "run", 'ARGS=--clock manual --open-control'], cwd=ROOT,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "callyard serve --clock manual --open-control" in done.stdout
