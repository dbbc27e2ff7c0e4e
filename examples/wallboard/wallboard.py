#!/usr/bin/env python3
"""A contact-center wallboard on the CX SDK (MiCCSDK): a first CX program.

1. Get a token from the authorization server (a registered client's client_credentials, or an employee's
   password grant).
2. Read "Queue Now" (``GET queues/state``) and the agents' states (``GET agents/states``) over REST.
3. Open the SignalR 2 hubs at ``/miccsdk/signalr`` (token in ``sessionid=Bearer …``), monitor every queue
   (``queueHub.addStateMonitor(ids)``), the conversations waiting in them (``queueHub.addConversationMonitor``)
   and every agent (``agentHub.addStateMonitor(ids)``), and update the board from ``queueStateChanged``,
   ``queueConversationChanged``/``Removed`` and ``onAgentStateChanged`` as they arrive.

Every media shows: Voice, Chat, Email, Sms and OpenMedia queues, agents and waiting conversations, and the
totals per media.

The board is drawn with rich in the terminal; ``--plain`` prints one JSON line per snapshot and per change
instead (for scripts and tests). See README.md."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from typing import Any

import httpx
from rich.console import Group
from rich.live import Live
from rich.table import Table
from signalr_async.net.client import SignalRClient
from signalr_async.net.hub import SignalRHub

API = "/miccsdk/api/v1"
DEMO_CLIENT = ("AcmeWallboard", "acme-wallboard-secret")   # the demo tenant's registered wallboard client


def _aiohttp_compat() -> None:
    """signalr-async 3.0 sends through aiohttp's ``WebSocketWriter.send``, which aiohttp 3.10 renamed
    ``send_frame``: restore the old name as an alias when it is missing."""
    from aiohttp import WSMsgType
    from aiohttp._websocket.writer import WebSocketWriter

    if hasattr(WebSocketWriter, "send"):
        return

    async def send(self: Any, message: str | bytes, binary: bool = False, compress: int | None = None) -> None:
        data = message.encode() if isinstance(message, str) else message
        await self.send_frame(data, WSMsgType.BINARY if binary else WSMsgType.TEXT, compress=compress)
    WebSocketWriter.send = send  # type: ignore[attr-defined]


class Board:
    """What the wallboard shows: queues and agents by id, updated from REST snapshots and hub events."""

    def __init__(self, plain: bool) -> None:
        self.queues: dict[str, dict[str, Any]] = {}
        self.agents: dict[str, dict[str, Any]] = {}
        self.waiting: dict[str, dict[str, Any]] = {}   # conversation id → the conversation waiting in a queue
        self.plain = plain
        self.changes = 0
        self.live: Live | None = None

    def emit(self, event: str, **data: Any) -> None:
        if self.plain:
            print(json.dumps({"event": event, **data}, separators=(",", ":")), flush=True)
        elif self.live is not None:
            self.live.update(self.render())

    @staticmethod
    def queue_line(q: dict[str, Any]) -> dict[str, Any]:
        return {"id": q["id"], "name": q["name"], "mediaType": q["mediaType"], "waiting": q["waitingConversations"],
                "longestWait": q["longestWaitingConversationDuration"], "available": q["agentsAvailable"],
                "loggedIn": q["agentsLoggedIn"], "offered": q["offeredConversationsToday"],
                "answered": q["answeredConversationsToday"], "abandoned": q["abandonedConversationsToday"],
                "serviceLevel": q["serviceLevelPercentageToday"]}

    @staticmethod
    def agent_line(a: dict[str, Any]) -> dict[str, Any]:
        return {"id": a["id"], "name": f"{a['firstName']} {a['lastName']}".strip(), "reporting": a["reporting"],
                "mediaType": a["mediaType"], "state": a["availableState"], "acdState": a["currentState"],
                "reason": a.get("reason")}

    @staticmethod
    def conversation_line(c: dict[str, Any]) -> dict[str, Any]:
        return {"id": c["conversationId"], "mediaType": c["mediaType"], "queue": c.get("queueName"),
                "state": c["conversationState"], "from": c.get("fromName") or c.get("fromAddress"),
                "subject": c.get("subject"), "since": c.get("timeOfferedToQueue")}

    def by_media(self) -> dict[str, dict[str, int]]:
        """Totals per media over the queues: waiting, offered, answered, abandoned, agents available."""
        totals: dict[str, dict[str, int]] = {}
        for q in self.queues.values():
            line = self.queue_line(q)
            media = totals.setdefault(line["mediaType"], {"waiting": 0, "offered": 0, "answered": 0,
                                                          "abandoned": 0, "available": 0})
            for key in media:
                media[key] += int(line[key])
        return totals

    def snapshot(self, queues: list[dict[str, Any]], agents: list[dict[str, Any]],
                 waiting: list[dict[str, Any]]) -> None:
        self.queues = {q["id"]: q for q in queues}
        self.agents = {a["id"]: a for a in agents}
        self.waiting = {c["conversationId"]: c for c in waiting}
        self.emit("snapshot", queues=[self.queue_line(q) for q in queues],
                  agents=[self.agent_line(a) for a in agents],
                  waiting=[self.conversation_line(c) for c in waiting], byMedia=self.by_media())

    def conversation_changed(self, conversations: list[dict[str, Any]]) -> None:
        for conversation in conversations:
            self.waiting[conversation["conversationId"]] = conversation
            self.changes += 1
            self.emit("conversation", **self.conversation_line(conversation))

    def conversation_removed(self, ids: list[str]) -> None:
        for conversation_id in ids:
            if self.waiting.pop(conversation_id, None) is not None:
                self.changes += 1
                self.emit("removed", id=conversation_id)

    def queue_changed(self, state: dict[str, Any]) -> None:
        self.queues[state["id"]] = state
        self.changes += 1
        self.emit("queue", **self.queue_line(state), byMedia=self.by_media()[state["mediaType"]])

    def agent_changed(self, state: dict[str, Any]) -> None:
        self.agents[state["id"]] = state
        self.changes += 1
        self.emit("agent", **self.agent_line(state))

    def render(self) -> Group:
        queues = Table(title="Queue Now", expand=True)
        for column in ("Queue", "Media", "Waiting", "Longest", "Avail", "In", "Offered", "Answ", "Aband", "SL %"):
            queues.add_column(column, no_wrap=True)
        for q in sorted(self.queues.values(), key=lambda q: q["name"]):
            line = self.queue_line(q)
            queues.add_row(line["name"], line["mediaType"], str(line["waiting"]), line["longestWait"],
                           str(line["available"]), str(line["loggedIn"]), str(line["offered"]),
                           str(line["answered"]), str(line["abandoned"]), f"{line['serviceLevel']:.0f}")
        agents = Table(title="Agents", expand=True)
        for column in ("Agent", "Reporting", "Media", "State", "ACD state", "Reason"):
            agents.add_column(column)
        colours = {"Available": "green", "Busy": "red", "DoNotDisturb": "magenta", "Away": "yellow"}
        for a in sorted(self.agents.values(), key=lambda a: (a["lastName"], a["mediaType"])):
            line = self.agent_line(a)
            colour = colours.get(line["state"], "dim")
            agents.add_row(line["name"], line["reporting"], line["mediaType"], f"[{colour}]{line['state']}[/]",
                           line["acdState"], line["reason"] or "")
        media = Table(title="By media", expand=True)
        for column in ("Media", "Waiting", "Offered", "Answered", "Abandoned", "Agents available"):
            media.add_column(column, no_wrap=True)
        for name, totals in sorted(self.by_media().items()):
            media.add_row(name, str(totals["waiting"]), str(totals["offered"]), str(totals["answered"]),
                          str(totals["abandoned"]), str(totals["available"]))
        waiting = Table(title="Waiting now", expand=True)
        for column in ("Media", "Queue", "From", "Subject", "State"):
            waiting.add_column(column)
        for c in sorted(self.waiting.values(), key=lambda c: c.get("timeOfferedToQueue") or ""):
            line = self.conversation_line(c)
            waiting.add_row(line["mediaType"], line["queue"] or "", line["from"] or "", line["subject"] or "",
                            line["state"])
        return Group(media, queues, waiting, agents)


async def get_token(http: httpx.AsyncClient, args: argparse.Namespace) -> str:
    if args.username:
        form = {"grant_type": "password", "username": args.username, "password": args.password}
    else:
        form = {"grant_type": "client_credentials", "client_id": args.client_id, "client_secret": args.client_secret}
    response = await http.post("/AuthorizationServer/Token", data=form)
    if response.status_code != 200:
        raise SystemExit(f"no token: {response.status_code} {response.text}")
    return str(response.json()["access_token"])


async def items(http: httpx.AsyncClient, path: str) -> list[dict[str, Any]]:
    """Every item of an OData collection, following ``_links.next``."""
    out: list[dict[str, Any]] = []
    url: str | None = API + path
    while url:
        response = await http.get(url)
        response.raise_for_status()
        body = response.json()
        out.extend(body["_embedded"]["items"])
        url = body["_links"].get("next", {}).get("href")
    return out


async def run(args: argparse.Namespace) -> int:
    _aiohttp_compat()
    board = Board(args.plain)
    async with httpx.AsyncClient(base_url=args.twin_url, timeout=10) as http:
        token = await get_token(http, args)
        http.headers["Authorization"] = f"Bearer {token}"
        queues = await items(http, "/queues/state")
        waiting = [c for q in queues for c in await items(http, f"/queues/{q['id']}/conversations")]
        board.snapshot(queues, await items(http, "/agents/states"), waiting)

        queue_hub, agent_hub = SignalRHub("queueHub"), SignalRHub("agentHub")
        refresh_agents = False

        async def queue_state_changed(state: dict[str, Any]) -> None:
            board.queue_changed(state)
            if refresh_agents:       # no agent monitors on this server: re-read the agents with each queue change
                for agent in await items(http, "/agents/states"):
                    if agent != board.agents.get(agent["id"]):
                        board.agent_changed(agent)

        async def agent_state_changed(state: dict[str, Any]) -> None:
            board.agent_changed(state)
        async def conversation_changed(conversations: list[dict[str, Any]]) -> None:
            board.conversation_changed(conversations)

        async def conversation_removed(ids: list[str]) -> None:
            board.conversation_removed(ids)
        queue_hub.on("queueStateChanged", queue_state_changed)
        queue_hub.on("queueConversationChanged", conversation_changed)
        queue_hub.on("queueConversationRemoved", conversation_removed)
        agent_hub.on("onAgentStateChanged", agent_state_changed)
        options = {"extra_params": {"sessionid": f"Bearer {token}"}}
        async with SignalRClient(args.twin_url + "/miccsdk/signalr", [queue_hub, agent_hub], timeout=10,
                                 keepalive_interval=10, connection_options=options):
            await queue_hub.invoke("addStateMonitor", list(board.queues))
            await queue_hub.invoke("addConversationMonitor", list(board.queues))
            try:
                await agent_hub.invoke("addStateMonitor", list(board.agents))
            except Exception:  # noqa: BLE001 - a server without agent monitors: fall back to REST reads
                refresh_agents = True
            board.emit("ready", queues=len(board.queues), agents=len(board.agents), agentMonitors=not refresh_agents)
            deadline = time.monotonic() + args.duration if args.duration else None
            if args.plain:
                await _until(deadline)
            else:
                with Live(board.render(), refresh_per_second=4, screen=False) as live:
                    board.live = live
                    await _until(deadline)
    board.emit("done", changes=board.changes)
    return 0


async def _until(deadline: float | None) -> None:
    while deadline is None or time.monotonic() < deadline:
        await asyncio.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A live contact-center wallboard over the CX SDK (MiCCSDK)")
    parser.add_argument("--twin-url", default=os.environ.get("CALLYARD_SERVER", "http://127.0.0.1:8080"),
                        help="the server (default $CALLYARD_SERVER or http://127.0.0.1:8080)")
    parser.add_argument("--client-id", default=DEMO_CLIENT[0], help="a registered client (default: the demo's)")
    parser.add_argument("--client-secret", default=DEMO_CLIENT[1])
    parser.add_argument("--username", help="sign in as an employee instead (password grant)")
    parser.add_argument("--password", default="callyard")
    parser.add_argument("--duration", type=float, default=0, help="exit after this many seconds (default: never)")
    parser.add_argument("--plain", action="store_true",
                        help="no board: one JSON line per snapshot and per change (non-interactive)")
    args = parser.parse_args(argv)
    args.twin_url = args.twin_url.rstrip("/")
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
