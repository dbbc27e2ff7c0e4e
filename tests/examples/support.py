"""Helpers of the example tests: the example applications as child processes (the twin is driven through
``tests.support.control.Control``, the ``control`` fixture)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable


ROOT = Path(__file__).resolve().parents[2]
ROUTER = ROOT / "examples" / "call_router" / "router.py"
CALL_CONTROL = ROOT / "examples" / "call_control" / "callcontrol.py"
B = "/2017-09-01"
# The tests' own requests carry a valid header too (the twin runs with strict_app_header).
TEST_APP = f"examplestest-server/1.0.0;platform=linux/1;session-id={uuid.uuid4()}"


class App:
    """An example application as a child process; its standard output is collected line by line."""

    def __init__(self, script: Path, args: list[str], stdin: bool = False) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CALLYARD_", "CLOUDLINK_"))}
        self.process = subprocess.Popen(
            [sys.executable, str(script), *args], cwd=ROOT, env=env, text=True, bufsize=1,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: list[str] = []
        self.errors: list[str] = []
        self._changed = threading.Condition()
        for stream, sink in ((self.process.stdout, self.lines), (self.process.stderr, self.errors)):
            threading.Thread(target=self._collect, args=(stream, sink), daemon=True).start()

    def _collect(self, stream: Any, sink: list[str]) -> None:
        for line in stream:
            with self._changed:
                sink.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_line(self, predicate: Callable[[str], bool], timeout: float = 20.0) -> str:
        """The first output line that satisfies ``predicate`` (waiting for it)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = next((line for line in self.lines if predicate(line)), None)
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not self._changed.wait(0.2)):
                    raise AssertionError(f"no such line within {timeout} s; output:\n" + "\n".join(self.lines)
                                         + "\nerrors:\n" + "\n".join(self.errors))
                self._changed.wait(min(left, 0.2))

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def finish(self, timeout: float = 30.0) -> int:
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError("the application did not finish; output:\n" + "\n".join(self.lines)
                                 + "\nerrors:\n" + "\n".join(self.errors)) from None
        time.sleep(0.05)  # let the readers take the last lines
        return code

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines if line.startswith("{")]
