"""bench/soak.py's logic, small enough for every run: a few hundred webhook events through a receiver that fails
30% of the attempts at random, the server killed once in the middle; nothing lost, duplicates identical.
``make soak`` runs the full 10,000 events with two kills."""
from __future__ import annotations

import re

import pytest

from bench import soak


def test_small_soak_loses_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    status = soak.main(["--events", "300", "--kills", "1", "--workers", "4", "--quiet"])
    out = capsys.readouterr().out
    assert status == 0, out

    def figure(label: str) -> int:
        found = re.search(rf"^  {re.escape(label)}\s+([\d,]+)", out, re.MULTILINE)
        assert found, f"no '{label}' in:\n{out}"
        return int(found.group(1).replace(",", ""))

    assert figure("events produced (messages acknowledged 201)") == 300
    assert figure("server kills (SIGKILL) and restarts") == 1
    expected = figure("publications expected (server's delivery log)")
    assert expected >= 300  # a message cut off by the kill may still have been committed
    assert figure("delivered, unique webhook-ids") == expected
    assert figure("acknowledged but missing from the outbox") == 0
    assert figure("lost") == 0
    attempts = figure("receiver attempts / answered 500")
    assert attempts > expected  # the receiver did fail some attempts: they were retried
    assert "bodies identical" in out
