"""The simulator commands of the CLI: ``scenario run|check``, ``call``, ``phone``, ``calls``, and the contact
center's customers ``chat`` and ``sms`` (``cli/media.py``).

Each is a client of a running server (``--server``), signed in with ``--user``/``--password`` (default: the
demo tenant's ``admin@acme.example`` / ``callyard``) or ``--token``.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from callyard.cli import audit, email, media
from callyard.sim.client import DEFAULT_SERVER, ApiError, SimClient

PHONE_ACTIONS = ("answer", "hangup", "hold", "retrieve", "busy", "dtmf")
STATE_STYLE = {"ringing": "yellow", "connected": "green", "held": "cyan", "completed": "dim"}


def connection_options() -> argparse.ArgumentParser:
    """The options every client command takes (a parent parser)."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("server connection")
    group.add_argument("--server", default=os.environ.get("CALLYARD_SERVER", DEFAULT_SERVER),
                       help=f"the callyard server (default: $CALLYARD_SERVER or {DEFAULT_SERVER})")
    group.add_argument("--user", default=os.environ.get("CALLYARD_USER", "admin@acme.example"),
                       help="an ACCOUNT_ADMIN of the account (default: admin@acme.example)")
    group.add_argument("--password", default=os.environ.get("CALLYARD_PASSWORD", "callyard"))
    group.add_argument("--token", default=os.environ.get("CALLYARD_TOKEN"),
                       help="a bearer token instead of --user/--password")
    group.add_argument("--account", help="the account (id or number); default: the token's")
    group.add_argument("--operator-token", default=os.environ.get("CALLYARD_OPERATOR_TOKEN"),
                       help="the server's operator token (its start banner): needed to move a virtual clock "
                            "(scenario run --virtual) and to reset the whole twin")
    return parent


def add_commands(sub: Any) -> None:
    conn = connection_options()
    scenario = sub.add_parser("scenario", help="run or check a scenario file")
    actions = scenario.add_subparsers(dest="scenario_command", required=True)
    run = actions.add_parser("run", parents=[conn], help="run a scenario against a server")
    run.add_argument("file", type=Path)
    run.add_argument("--virtual", action="store_true",
                     help="move the server's virtual clock (a server started with --clock manual)")
    run.add_argument("--seed", type=int, help="seed of the scenario's randomness (default: random, printed)")
    run.add_argument("--speed", type=float, help="scenario seconds per wall-clock second: with --virtual it "
                     "paces the clock (default: as fast as possible); on the wall clock it compresses the "
                     "call schedule (a load knob: the server's own timers still run in real time)")
    run.add_argument("--duration", type=float, help="seconds of traffic (overrides the file's duration)")
    run.add_argument("--max-error-rate", type=float,
                     help="fraction of failed requests that fails the run (overrides maxErrorRate)")
    run.add_argument("--report", type=Path, help="also write the summary as JSON to this file")
    run.add_argument("--quiet", action="store_true", help="no live progress, only the summary")
    check = actions.add_parser("check", help="validate a scenario file")
    check.add_argument("file", type=Path)

    call = sub.add_parser("call", parents=[conn], help="an outside caller dials a number; prints the callId")
    call.add_argument("from_number", metavar="FROM", help="the outside number, e.g. +16135550123")
    call.add_argument("to", metavar="TO", help="an extension, group number or DID")
    call.add_argument("--name", default="", help="the caller's name")
    call.add_argument("--priority", type=int, default=0)
    call.add_argument("--skill")

    phone = sub.add_parser("phone", parents=[conn], help="what a phone's user does")
    phone.add_argument("endpoint", metavar="ENDPOINT", help="an extension or outside number")
    phone.add_argument("action", metavar="ACTION", choices=PHONE_ACTIONS, help=" | ".join(PHONE_ACTIONS))
    phone.add_argument("--call", dest="call_id", help="the call: its callId (or its first characters) or the "
                       "endpoint's leg id; "
                       "default: the obvious one (the ringing call to answer, the talking one to hang up)")
    phone.add_argument("--digits", help="the keys for dtmf")
    phone.add_argument("--device", help="the terminal that answers, e.g. 2880-soft")

    calls = sub.add_parser("calls", parents=[conn], help="the live calls of the account")
    calls.add_argument("--watch", action="store_true", help="refresh until Ctrl-C")
    calls.add_argument("--interval", type=float, default=1.0, help="seconds between refreshes with --watch")
    audit.add_command(sub, conn)
    media.add_commands(sub, conn)
    email.add_command(sub)


def run_command(args: argparse.Namespace) -> int:
    handler = {"scenario": _scenario, "call": _call, "phone": _phone, "calls": _calls,
               "audit": lambda a: audit.run(a, _console()), "chat": lambda a: media.run(a, _client(a)),
               "sms": lambda a: media.run(a, _client(a)), "email": email.run}[args.command]
    try:
        return handler(args)
    except ApiError as exc:
        hint = f" (is a server running at {args.server}?)" if exc.status == 0 else ""
        print(f"callyard: {exc}{hint}", file=sys.stderr)
        return 1


def _client(args: argparse.Namespace) -> SimClient:
    return SimClient(args.server, token=args.token, user=None if args.token else args.user,
                     password=args.password, account=args.account, operator_token=args.operator_token)


def _console(width_if_piped: int = 160) -> Any:
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console = Console(width=width_if_piped)
    return console


# ---------------------------------------------------------------------------- scenario
def _scenario(args: argparse.Namespace) -> int:
    from callyard.sim.scenario import RunnerError, ScenarioError, describe, load_scenario, print_summary, Runner

    try:
        scenario = load_scenario(args.file)
    except ScenarioError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    if args.scenario_command == "check":
        print("\n".join(describe(scenario)))
        print(f"{args.file}: ok")
        return 0
    if args.duration is not None and args.duration <= 0:
        print("callyard: --duration must be positive", file=sys.stderr)
        return 2
    if args.speed is not None and args.speed <= 0:
        print("callyard: --speed must be positive", file=sys.stderr)
        return 2
    console = _console()

    async def go() -> Any:
        async with _client(args) as client:
            runner = Runner(scenario, client, virtual=args.virtual, seed=args.seed, speed=args.speed,
                            duration=args.duration, console=console, progress=not args.quiet,
                            max_error_rate=args.max_error_rate)
            return await runner.run()

    try:
        summary = asyncio.run(go())
    except RunnerError as exc:
        print(f"callyard: {exc}", file=sys.stderr)
        return 2
    print_summary(summary, console)
    if args.report:
        args.report.write_text(json.dumps(summary.to_dict(), indent=2) + "\n", encoding="utf-8")
    return 0 if summary.ok else 1


# ---------------------------------------------------------------------------- call, phone
def _call(args: argparse.Namespace) -> int:
    async def go() -> dict[str, Any]:
        async with _client(args) as client:
            return await client.place_call(args.from_number, args.to, from_name=args.name, priority=args.priority,
                                           skill=args.skill)

    answer = asyncio.run(go())
    print(answer["callId"])
    caller = answer["caller"]
    if caller["state"] == "completed":
        print(f"the call was turned away at once: {caller.get('cause')}", file=sys.stderr)
    return 0


def _phone(args: argparse.Namespace) -> int:
    if args.action == "dtmf" and not args.digits:
        print("callyard: dtmf needs --digits", file=sys.stderr)
        return 2
    if args.digits and args.action != "dtmf":
        print("callyard: --digits goes with dtmf", file=sys.stderr)
        return 2

    async def go() -> dict[str, Any]:
        async with _client(args) as client:
            leg_id = args.call_id
            if leg_id:  # a call's callId, or its first characters (from `callyard calls`) → this endpoint's leg
                endpoint = await client.endpoint(args.endpoint)
                legs = endpoint.get("calls", [])
                exact = [leg for leg in legs if leg_id in (leg["callId"], leg["legId"])]
                prefixed = [leg for leg in legs if len(leg_id) >= 4 and (leg["callId"] or "").startswith(leg_id)]
                if exact or len(prefixed) == 1:
                    leg_id = (exact or prefixed)[0]["legId"]
            return await client.phone(args.endpoint, args.action, call_id=leg_id, device=args.device,
                                      digits=args.digits)

    leg = asyncio.run(go())
    extra = f" dtmf={leg['dtmf']}" if args.action == "dtmf" and leg.get("dtmf") else ""
    print(f"{leg['endpointId']} {leg['state']} ({leg.get('cause')}) call {leg.get('callId')} leg {leg['legId']}"
          f"{extra}")
    return 0


# ---------------------------------------------------------------------------- calls
def _age(created: str | None, now: datetime | None) -> str:
    if not created or now is None:
        return ""
    try:
        seconds = max(0, int((now - datetime.fromisoformat(created.replace("Z", "+00:00"))).total_seconds()))
    except ValueError:
        return ""
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _leg_label(leg: dict[str, Any]) -> str:
    number = leg.get("endpointId", "")
    if leg.get("direction") == "outbound" and leg.get("fromName") and leg.get("fromName") != number:
        return f"{number} {leg['fromName']}"
    if leg.get("direction") == "inbound" and leg.get("to") and leg.get("to") != number:
        return f"{number} (via {leg['to']})"
    return number


def calls_table(calls: list[dict[str, Any]], now: datetime | None, queues: dict[str, str] | None = None,
                width: int = 160) -> Any:
    """One row per leg, grouped by call. Narrower than 140 columns, callIds are cut to 8 characters
    (``callyard phone … --call`` takes such a prefix) and the endpoint kind is left out."""
    from rich import box
    from rich.table import Table

    queues = queues or {}
    compact = width < 140
    table = Table(title=f"live calls: {len(calls)}", title_justify="left",
                  box=box.SIMPLE_HEAD if compact else box.HEAVY_HEAD, padding=(0, 1))
    columns = ["callId", "age", "endpoint", "kind", "state", "direction", "cause", "queue"]
    if compact:
        columns.remove("kind")
    minimum = {"callId": 8, "age": 5, "state": 9}
    for name in columns:
        table.add_column("dir" if compact and name == "direction" else name, min_width=minimum.get(name),
                         justify="right" if name == "age" else "left", no_wrap=True, overflow="ellipsis")
    for call in sorted(calls, key=lambda c: c.get("createdOn") or ""):
        legs = call.get("legs") or [{}]
        for index, leg in enumerate(legs):
            state = leg.get("state", "")
            queue_id = leg.get("queueId") or (call.get("queueId") if index == 0 else None)
            cells = {"callId": (call["callId"][:8] if compact else call["callId"]) if index == 0 else "",
                     "age": _age(call.get("createdOn"), now) if index == 0 else "",
                     "endpoint": _leg_label(leg) if leg else "[dim](no live legs)[/]",
                     "kind": leg.get("endpointKind", ""),
                     "state": f"[{STATE_STYLE.get(state, 'white')}]{state}[/]",
                     "direction": {"inbound": "in", "outbound": "out"}.get(leg.get("direction", ""), "")
                     if compact else leg.get("direction", ""), "cause": leg.get("cause") or "",
                     "queue": queues.get(queue_id or "", queue_id or "")}
            table.add_row(*(cells[name] for name in columns), end_section=index == len(legs) - 1)
    return table


async def _snapshot(client: SimClient) -> tuple[list[dict[str, Any]], datetime | None, dict[str, str]]:
    calls = await client.live_calls()
    queues = {}
    if any(call.get("queueId") for call in calls):
        queues = {q["groupId"]: f"{q.get('name', '')} {q.get('number', '')}".strip() for q in await client.queues()}
    try:
        now = datetime.fromisoformat((await client.clock())["now"].replace("Z", "+00:00"))
    except (ApiError, KeyError, ValueError):
        now = None
    return calls, now, queues


def _calls(args: argparse.Namespace) -> int:
    console = _console()

    async def once() -> None:
        async with _client(args) as client:
            console.print(calls_table(*await _snapshot(client), width=console.width))

    async def watch() -> None:
        from rich.live import Live

        async with _client(args) as client:
            with Live(calls_table(*await _snapshot(client), width=console.width), console=console,
                      auto_refresh=False) as live:
                try:
                    while True:
                        await asyncio.sleep(max(0.1, args.interval))
                        live.update(calls_table(*await _snapshot(client), width=console.width), refresh=True)
                except asyncio.CancelledError:
                    pass

    try:
        asyncio.run(watch() if args.watch else once())
    except KeyboardInterrupt:
        pass
    return 0
