#!/usr/bin/env python3
"""Client call control — the seed 000 tutorial's "Client Call Control Tool", on the ``cloudlink_client`` SDK.

A lightweight tool for the desk of one user: it signs in as that user, follows the calls of the user's
extension through the Notifications API over a WebSocket (MQTT over WebSocket — a client-side application
must never use webhooks, seed 002), shows them as they change, carries out call control on them with the
Media API (answer, hold, retrieve, consult, supervised transfer, blind transfer, hang up) and keeps a record
of every finished call in a local JSON-lines file.

Commands are read one per line, without a prompt, from standard input — or from ``--commands "answer;
consult 2882; transfer"`` or ``--script FILE``. When commands come from a script or a pipe, each waits for
the call state it needs, as the notifications report it (``answer`` waits for a call to ring, ``transfer``
for the consulted party to pick up); nothing is polled.

    python examples/call_control/callcontrol.py --user bob@acme.example
    python examples/call_control/callcontrol.py --user bob@acme.example --commands "answer; consult 2882; transfer"

Commands (``<ref>`` is a call's number in ``calls`` or its callId; without it the obvious call is used):

    answer [<ref>]             answer a ringing call
    hold [<ref>]               put the connected call on hold
    retrieve [<ref>]           take a held call back
    consult <number> [<ref>]   hold the call and call <number> (the first step of a supervised transfer)
    transfer [<ref>]           complete the supervised transfer: the held caller and the consulted party talk
    blind <number> [<ref>]     transfer the call to <number> without consulting
    hangup [<ref>]             end a call (a ringing one is rejected)
    calls                      the current calls
    history [<n>]              the last <n> (default 20) finished calls from the record file
    wait <ringing|connected|held|answered|idle> [<seconds>]
                               wait until the notifications show that state (answered: the consulted party
                               picked up; idle: no calls left)
    help                       this list
    quit                       leave (also end of input)
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import re
import shlex
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from cloudlink_client import (CloudLink, CloudLinkError, Password, SeenIds, StreamError, log_to_stderr, make_pkce,
                              utc_now_iso)

APP_NAME, FLAVOR, VERSION = "callcontrol", "desktop", "1.0.0"
TOPIC = "platform-api-media"
BASE = "/2017-09-01"
DEFAULT_SERVER = "http://127.0.0.1:8080"
DEFAULT_RECORD = Path("~/.callyard-calls.jsonl")
# The demo tenant's application and one of its registered redirect URIs (README "The demo tenant").
DEMO_CLIENT_ID = "c1a0d0e0-5a5a-4e5e-9d9d-00000000a001"
DEMO_REDIRECT_URI = "http://localhost:3000/callback"
WAIT_SECONDS = 60.0
_CALL_SUBJECT = re.compile(r"/endpoints/([^/]+)/calls/([^/?]+)$")
LIVE = ("ringing", "connected", "held")

log = logging.getLogger("callcontrol")


class CommandError(Exception):
    """A command that cannot be carried out (bad arguments, no such call, waited in vain)."""


# ============================================================================ calls
@dataclass
class Call:
    """One call (leg) of the extension, as the notifications describe it."""

    call_id: str
    number: int                        # shown in `calls`, stable for the session
    content: dict[str, Any] = field(default_factory=dict)
    consult_for: str | None = None     # a consultation call: the held call it was made from
    publications: list[str] = field(default_factory=list)   # the states its publications reported, in order
    far_end_answered: bool = False

    @property
    def state(self) -> str:
        return str(self.content.get("state") or "unknown")

    @property
    def direction(self) -> str:
        return str(self.content.get("direction") or "")

    @property
    def other_party(self) -> str:
        key = "from" if self.direction == "inbound" else "to"
        number, name = self.content.get(key) or "?", self.content.get(f"{key}Name") or ""
        return f"{number} ({name})" if name else str(number)

    def seen(self, content: dict[str, Any]) -> None:
        """A publication about this call arrived."""
        state = content.get("state")
        previous = self.publications[-1] if self.publications else None
        # The far end of an outgoing call picked up: the platform reports the call again as connected (it
        # was ringing at the far end, or already connected from this side's point of view on the twin).
        if self.direction == "outbound" or content.get("direction") == "outbound":
            if state == "connected" and previous in ("ringing", "connected"):
                self.far_end_answered = True
        self.publications.append(str(state))
        self.content.update(content)

    def line(self) -> str:
        extra = f"  consultation for {self.consult_for}" if self.consult_for else ""
        answered = "" if self.direction != "outbound" or self.state != "connected" else \
            ("  (answered)" if self.far_end_answered else "  (ringing at the far end)")
        return (f"#{self.number} {self.call_id} {self.state:<9} {self.direction:<8} {self.other_party}  "
                f"cause={self.content.get('cause', '')}{extra}{answered}")


class Record:
    """The local record of finished calls: one JSON object per line (appended, never rewritten)."""

    def __init__(self, path: Path) -> None:
        self.path = path.expanduser()
        self.written: set[str] = set()
        for entry in self.read():
            if entry.get("callId"):
                self.written.add(str(entry["callId"]))

    def read(self) -> list[dict[str, Any]]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line damaged by hand; keep the rest
            if isinstance(entry, dict):
                out.append(entry)
        return out

    def add(self, entry: dict[str, Any]) -> bool:
        call_id = str(entry.get("callId"))
        if call_id in self.written:
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(entry, separators=(",", ":"), ensure_ascii=False) + "\n")
        self.written.add(call_id)
        return True


def record_of(endpoint: str, content: dict[str, Any], source: str) -> dict[str, Any]:
    pbx = content.get("extraPbxData")
    if isinstance(pbx, str):
        try:
            pbx = json.loads(pbx)
        except ValueError:
            pbx = {}
    return {"callId": str(content.get("callId", "")).rsplit("/", 1)[-1], "endpointId": endpoint,
            "callTrackingId": pbx.get("callTrackingID") if isinstance(pbx, dict) else None,
            "direction": content.get("direction"), "from": content.get("from"), "fromName": content.get("fromName"),
            "to": content.get("to"), "toName": content.get("toName"), "cause": content.get("cause"),
            "answered": bool(content.get("completed")), "createdOn": content.get("createdOn"),
            "endTime": content.get("endTime"), "ringTime": content.get("ringTime"),
            "billingTime": content.get("billingTime"), "source": source, "recordedAt": utc_now_iso()}


# ============================================================================ the tool
class Tool:
    def __init__(self, client: CloudLink, extension: str, user_id: str | None, record: Record,
                 out: Callable[[str], None], wait_seconds: float = WAIT_SECONDS) -> None:
        self.client = client
        self.extension = extension
        self.user_id = user_id
        self.record = record
        self.out = out
        self.wait_seconds = wait_seconds
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.pending_lines: list[str] = []
        self.calls: dict[str, Call] = {}
        self.publication_ids = SeenIds()   # bounded: the tool may run for days
        self.numbers = 0
        self.stream: Any = None
        self.failures = 0
        self.input_ended = False

    # ------------------------------------------------------------------ notifications
    def start(self) -> None:
        subject = f"^{re.escape(BASE)}/endpoints/{re.escape(self.extension)}/calls/"
        self.stream = self.client.notifications.stream(
            TOPIC, subject_filter=subject, on_publication=lambda p: self.events.put(("publication", p)))
        # The calls already up when the tool starts: asked once; from now on the notifications tell.
        for item in self.client.media.list_calls(self.extension).get("_embedded", {}).get("items", []):
            if item.get("callId") and item["callId"] not in self.calls and item.get("state") in LIVE:
                self._call(item["callId"]).content.update(item)

    def _call(self, call_id: str) -> Call:
        call = self.calls.get(call_id)
        if call is None:
            self.numbers += 1
            call = self.calls[call_id] = Call(call_id, self.numbers)
        return call

    def apply(self, publication: dict[str, Any]) -> None:
        publication_id = publication.get("publicationId")
        if publication_id and not self.publication_ids.add(str(publication_id)):
            return   # delivered again (QoS 1)
        found = _CALL_SUBJECT.search(str(publication.get("subject") or ""))
        content = publication.get("content")
        if found is None or found.group(1) != self.extension or not isinstance(content, dict):
            return
        call_id = found.group(2)
        call = self._call(call_id)
        call.seen(content)
        self.out(f"{utc_now_iso()} call {call.line()}")
        if call.state == "completed":
            if self.record.add(record_of(self.extension, call.content, "notification")):
                self.out(f"{utc_now_iso()} recorded {call_id} in {self.record.path}")
            del self.calls[call_id]

    def live(self) -> list[Call]:
        return sorted((c for c in self.calls.values() if c.state in LIVE), key=lambda c: c.number)

    def pump(self, timeout: float) -> str | None:
        """Handle one event (a publication, or a line of input that is kept for later); the event kind."""
        try:
            kind, value = self.events.get(timeout=timeout)
        except queue.Empty:
            self._check_stream()
            return None
        if kind == "publication":
            self.apply(value)
        elif kind == "line":
            self.pending_lines.append(value)
        elif kind == "eof":
            self.input_ended = True
        return kind

    def _check_stream(self) -> None:
        error = getattr(self.stream, "error", None)
        if error is not None:
            raise error

    def wait_for(self, what: str, predicate: Callable[[], Any], timeout: float | None = None) -> Any:
        """Handle notifications until ``predicate()`` gives something; CommandError after ``timeout``."""
        deadline = time.monotonic() + (self.wait_seconds if timeout is None else timeout)
        while True:
            found = predicate()
            if found:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                raise CommandError(f"waited {self.wait_seconds if timeout is None else timeout:g} s for {what}")
            self.pump(min(left, 0.5))

    # ------------------------------------------------------------------ finding calls
    def resolve(self, ref: str | None, *states: str, direction: str | None = None, wait: bool = False,
                what: str = "a call") -> Call:
        if ref is not None:
            text = ref.lstrip("#")
            call = self.calls.get(text) or next((c for c in self.calls.values() if str(c.number) == text), None)
            if call is None or call.state not in LIVE:
                raise CommandError(f"no current call {ref} (see `calls`)")
            return call

        def candidate() -> Call | None:
            found = [c for c in self.live() if c.state in states and (direction is None or c.direction == direction)]
            return found[-1] if found else None
        call = self.wait_for(what, candidate) if wait else candidate()
        if call is None:
            raise CommandError(f"there is no {what}")
        return call

    def consultation_pair(self, ref: str | None) -> tuple[Call, Call]:
        """(consultation, held original) for a supervised transfer."""
        if ref is not None:
            call = self.resolve(ref)
            if call.consult_for:
                original = self.calls.get(call.consult_for)
                if original is None or original.state not in LIVE:
                    raise CommandError(f"the call {call.consult_for} that {call.call_id} consults for has ended")
                return call, original
            consult = next((c for c in self.live() if c.consult_for == call.call_id), None)
            if consult is None:
                raise CommandError(f"call {call.call_id} has no consultation call: `consult <number>` first")
            return consult, call
        pairs = [(c, self.calls[c.consult_for]) for c in self.live()
                 if c.consult_for and c.consult_for in self.calls and self.calls[c.consult_for].state in LIVE]
        if not pairs:
            raise CommandError("there is no consultation call: `consult <number>` first")
        if len(pairs) > 1:
            raise CommandError("several consultation calls: name one, `transfer <ref>`")
        return pairs[0]

    # ------------------------------------------------------------------ commands
    def execute(self, text: str, wait: bool) -> bool:
        """Run one command line; False when the tool should quit."""
        try:
            words = shlex.split(text, comments=True)
        except ValueError as exc:
            self.out(f"error: {exc}")
            self.failures += 1
            return True
        if not words:
            return True
        command, args = words[0].lower(), words[1:]
        if command in ("quit", "exit"):
            return False
        handler = getattr(self, f"cmd_{command}", None)
        if handler is None:
            self.out(f"error: unknown command {command!r} (try `help`)")
            self.failures += 1
            return True
        try:
            handler(args, wait)
        except CommandError as exc:
            self.out(f"error: {command}: {exc}")
            self.failures += 1
        except CloudLinkError as exc:   # logged by the SDK too, with every detail
            self.out(f"error: {command}: {exc.status} {exc.name}: {exc.message} "
                     f"(correlation id {exc.correlation_id}, call {exc.call_id or '-'}, {exc.timestamp})")
            self.failures += 1
        return True

    def _act(self, label: str, call: Call, action: Callable[[], Any]) -> Any:
        result = action()
        self.out(f"{utc_now_iso()} ok {label} {call.call_id}")
        return result

    @staticmethod
    def _args(args: list[str], low: int, high: int, usage: str) -> None:
        if not low <= len(args) <= high:
            raise CommandError(f"usage: {usage}")

    def cmd_answer(self, args: list[str], wait: bool) -> None:
        self._args(args, 0, 1, "answer [<ref>]")
        call = self.resolve(args[0] if args else None, "ringing", direction="inbound", wait=wait,
                            what="a ringing call")
        self._act("answer", call, lambda: self.client.media.answer(self.extension, call.call_id))

    def cmd_hold(self, args: list[str], wait: bool) -> None:
        self._args(args, 0, 1, "hold [<ref>]")
        call = self.resolve(args[0] if args else None, "connected", wait=wait, what="a connected call")
        self._act("hold", call, lambda: self.client.media.hold(self.extension, call.call_id))

    def cmd_retrieve(self, args: list[str], wait: bool) -> None:
        self._args(args, 0, 1, "retrieve [<ref>]")
        call = self.resolve(args[0] if args else None, "held", wait=wait, what="a held call")
        self._act("retrieve", call, lambda: self.client.media.retrieve(self.extension, call.call_id))

    def cmd_consult(self, args: list[str], wait: bool) -> None:
        self._args(args, 1, 2, "consult <number> [<ref>]")
        call = self.resolve(args[1] if len(args) > 1 else None, "connected", "held", wait=wait,
                            what="a connected call")
        created = self._act(f"consult {args[0]} from", call,
                            lambda: self.client.media.consult(self.extension, call.call_id, args[0]))
        consult_id = created.get("callId") if isinstance(created, dict) else None
        if consult_id:
            consult = self._call(consult_id)
            consult.consult_for = call.call_id
            for key, value in created.items():
                consult.content.setdefault(key, value)   # a publication may have told more already
            self.out(f"{utc_now_iso()} consultation call {consult_id} to {args[0]}; `transfer` when they agree")

    def cmd_transfer(self, args: list[str], wait: bool) -> None:
        self._args(args, 0, 1, "transfer [<ref>]")
        if wait and not args:
            self.wait_for("a consultation call", lambda: any(c.consult_for for c in self.live()))
        consult, original = self.consultation_pair(args[0] if args else None)
        if wait:
            self.wait_for(f"the consulted party to answer call {consult.call_id}",
                          lambda: consult.far_end_answered or consult.state not in LIVE)
        self._act(f"transfer {original.call_id} to the party of", consult,
                  lambda: self.client.media.supervised_transfer(self.extension, consult.call_id, original.call_id))

    def cmd_blind(self, args: list[str], wait: bool) -> None:
        self._args(args, 1, 2, "blind <number> [<ref>]")
        call = self.resolve(args[1] if len(args) > 1 else None, "connected", "held", wait=wait,
                            what="a connected call")
        self._act(f"blind transfer to {args[0]} of", call,
                  lambda: self.client.media.blind_transfer(self.extension, call.call_id, args[0]))

    def cmd_hangup(self, args: list[str], wait: bool) -> None:
        self._args(args, 0, 1, "hangup [<ref>]")
        if args:
            call = self.resolve(args[0])
        else:
            live = self.live()
            call = next((c for state in ("connected", "held", "ringing") for c in reversed(live) if c.state == state),
                        None)
            if call is None:
                raise CommandError("there is no call")
        self._act("hangup", call, lambda: self.client.media.end(self.extension, call.call_id))

    def cmd_calls(self, args: list[str], wait: bool) -> None:
        live = self.live()
        self.out(f"{len(live)} call(s) on {self.extension}")
        for call in live:
            self.out("  " + call.line())

    def cmd_history(self, args: list[str], wait: bool) -> None:
        self._args(args, 0, 1, "history [<n>]")
        count = int(args[0]) if args and args[0].isdigit() else 20
        entries = self.record.read()[-count:]
        self.out(f"{len(entries)} finished call(s) in {self.record.path}")
        for e in entries:
            other = e.get("from") if e.get("direction") == "inbound" else e.get("to")
            talk = e.get("billingTime") or 0
            self.out(f"  {e.get('createdOn', '?')} {e.get('direction', '?'):<8} {other!s:<16} "
                     f"{'answered' if e.get('answered') else 'missed  '} talk {float(talk):6.1f} s "
                     f"cause={e.get('cause')} callId={e.get('callId')}")

    def cmd_wait(self, args: list[str], wait: bool) -> None:
        self._args(args, 1, 2, "wait <ringing|connected|held|answered|idle> [<seconds>]")
        what = args[0].lower()
        try:
            seconds = float(args[1]) if len(args) > 1 else None
        except ValueError:
            raise CommandError(f"{args[1]!r} is not a number of seconds") from None
        checks: dict[str, Callable[[], Any]] = {
            "ringing": lambda: any(c.state == "ringing" and c.direction == "inbound" for c in self.live()),
            "connected": lambda: any(c.state == "connected" for c in self.live()),
            "held": lambda: any(c.state == "held" for c in self.live()),
            "answered": lambda: any(c.consult_for and c.far_end_answered for c in self.live()),
            "idle": lambda: not self.live(),
        }
        if what not in checks:
            raise CommandError(f"wait for one of {', '.join(checks)}")
        self.wait_for(f"{what}", checks[what], seconds)
        self.out(f"{utc_now_iso()} ok wait {what}")

    def cmd_help(self, args: list[str], wait: bool) -> None:
        text = __doc__ or ""
        self.out(text[text.index("Commands"):].rstrip())

    # ------------------------------------------------------------------ the end
    def sync_records(self) -> int:
        """Once, at exit: the Media API's call records of this user, for calls that ended while the tool
        was not watching. Returns how many were added."""
        query: dict[str, Any] = {"top": 100}
        if self.user_id:
            query["filter"] = f"contains(principal, '{self.user_id}')"
        body = self.client.media.list_call_records(**query)
        added = 0
        for item in reversed((body or {}).get("_embedded", {}).get("items", [])):
            pbx = item.get("extraPbxData")
            try:
                endpoint = json.loads(pbx).get("endpointId") if isinstance(pbx, str) else None
            except ValueError:
                endpoint = None
            if item.get("state") != "completed" or (endpoint is not None and endpoint != self.extension):
                continue
            if self.record.add(record_of(self.extension, item, "records")):
                added += 1
        return added

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None


# ============================================================================ the command
def read_input(stream: Iterable[str], events: "queue.Queue[tuple[str, Any]]") -> None:
    for line in stream:
        events.put(("line", line.rstrip("\n")))
    events.put(("eof", None))


def script_lines(commands: str | None, script: Path | None) -> list[str]:
    lines: list[str] = []
    if script is not None:
        lines.extend(script.read_text(encoding="utf-8").splitlines())
    if commands:
        lines.extend(part.strip() for part in commands.split(";"))
    return [line for line in lines if line.strip() and not line.strip().startswith("#")]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="callcontrol.py", description="Call control for one extension (seed 000's "
                                "client call control tool). Commands one per line on standard input; `help` "
                                "lists them.")
    p.add_argument("--user", default=os.environ.get("CLOUDLINK_USER", "bob@acme.example"),
                   help="the user to sign in as (default $CLOUDLINK_USER or %(default)s)")
    p.add_argument("--password", default=os.environ.get("CLOUDLINK_PASSWORD", "callyard"),
                   help="the user's password (default $CLOUDLINK_PASSWORD or the demo tenant's)")
    p.add_argument("--account-id", help="the account, when the user name exists in several")
    p.add_argument("--auth", choices=("password", "code"), default="password",
                   help="password: the password grant (default; self-assessed applications and development); "
                   "code: the authorization code flow with PKCE, which seed 002 requires once an application "
                   "has its clientId")
    p.add_argument("--client-id", default=os.environ.get("CLOUDLINK_CLIENT_ID", DEMO_CLIENT_ID),
                   help="the application's clientId for --auth code (default: the demo application)")
    p.add_argument("--redirect-uri", default=DEMO_REDIRECT_URI,
                   help="a redirect URI registered for the application (--auth code; default %(default)s)")
    p.add_argument("--extension", help="the extension to control (default: the user's own)")
    p.add_argument("--twin-url", default=os.environ.get("CALLYARD_SERVER", DEFAULT_SERVER),
                   help="the callyard twin (default $CALLYARD_SERVER or %(default)s)")
    p.add_argument("--record", type=Path, default=DEFAULT_RECORD,
                   help="the JSON-lines file of finished calls (default %(default)s)")
    p.add_argument("--no-sync", action="store_true",
                   help="do not add the Media API's call records to the record file at exit")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--commands", help="run these commands (separated by ';') instead of reading input")
    source.add_argument("--script", type=Path, help="run the commands of this file (one a line) instead")
    p.add_argument("--wait", type=float, default=WAIT_SECONDS, metavar="S",
                   help="how long a scripted command waits for the call state it needs (default %(default)g s)")
    p.add_argument("--verbose", action="store_true", help="log the SDK's debug messages")
    return p


def main(argv: list[str] | None = None, stdin: Any = None) -> int:
    args = parser().parse_args(argv)
    log_to_stderr(args.verbose)
    stdin = stdin if stdin is not None else sys.stdin

    def out(text: str) -> None:
        print(text, flush=True)

    try:
        scripted = script_lines(args.commands, args.script) if (args.commands or args.script) else None
    except OSError as exc:
        print(f"callcontrol.py: --script: {exc}", file=sys.stderr)
        return 2
    grant = Password(args.user, args.password, account_id=args.account_id) if args.auth == "password" else None
    with CloudLink(APP_NAME, FLAVOR, VERSION, grant=grant, twin_url=args.twin_url) as client:
        try:
            if args.auth == "code":
                # The authorization code flow with PKCE (the twin's POST /authorize takes the credentials
                # the sign-in page would); from then on the SDK renews the token with its refresh token.
                pkce = make_pkce()
                code = client.auth.authorize(client_id=args.client_id, username=args.user, password=args.password,
                                             redirect_uri=args.redirect_uri, pkce=pkce,
                                             account_id=args.account_id)["code"]
                client.auth.exchange_code(client_id=args.client_id, code=code, redirect_uri=args.redirect_uri,
                                          code_verifier=pkce.verifier)
            claims = client.auth.claims()
        except CloudLinkError as exc:
            print(f"callcontrol.py: cannot sign in as {args.user}: {exc.status} {exc.name}: {exc.message} "
                  f"(correlation id {exc.correlation_id})", file=sys.stderr)
            return 1
        extension = args.extension or claims.get("extension")
        if not extension:
            print(f"callcontrol.py: {args.user} has no extension; name one with --extension", file=sys.stderr)
            return 2
        tool = Tool(client, str(extension), claims.get("userId") or claims.get("principalId"),
                    Record(args.record), out, wait_seconds=args.wait)
        try:
            tool.start()
        except CloudLinkError as exc:
            print(f"callcontrol.py: cannot follow the calls of {extension}: {exc}", file=sys.stderr)
            tool.close()
            return 1
        out(f"{utc_now_iso()} ready: {args.user} on extension {extension}; session-id={client.session_id}; "
            f"record {tool.record.path}")
        if tool.live():
            tool.cmd_calls([], False)
        code = 0
        try:
            if scripted is not None:
                for line in scripted:
                    out(f"{utc_now_iso()} > {line}")
                    if not tool.execute(line, wait=True):
                        break
            else:
                waiting = not stdin.isatty()   # piped commands wait for the state they need, as a script does
                threading.Thread(target=read_input, args=(stdin, tool.events), daemon=True).start()
                running = True
                while running:
                    if tool.pending_lines:
                        line = tool.pending_lines.pop(0)
                        if waiting:
                            out(f"{utc_now_iso()} > {line}")
                        running = tool.execute(line, wait=waiting)
                    elif tool.input_ended:
                        break
                    else:
                        tool.pump(0.5)
        except KeyboardInterrupt:
            pass
        except StreamError as exc:
            out(f"error: the notifications stopped: {exc}")
            code = 1
        finally:
            tool.close()
            if not args.no_sync:
                try:
                    added = tool.sync_records()
                    if added:
                        out(f"{utc_now_iso()} added {added} call(s) from the call records to {tool.record.path}")
                except CloudLinkError as exc:
                    out(f"error: reading the call records: {exc.status} {exc.name} (correlation id "
                        f"{exc.correlation_id})")
        if scripted is not None and tool.failures:
            code = code or 1
        out(f"{utc_now_iso()} bye ({tool.failures} failed command(s))")
        return code


if __name__ == "__main__":
    sys.exit(main())
