"""The contact center's customers on the other media, from the CLI: ``callyard chat`` and ``callyard sms``.

* ``callyard chat start NAME [TEXT] [--email E] [--queue Q] [--subject S]`` — a customer starts a web chat;
  prints its conversation id. ``callyard chat say ID TEXT`` — they type; ``callyard chat show ID`` — what
  they see (state, agent, every message both ways); ``callyard chat end ID`` — they leave.
* ``callyard sms FROM TEXT [--to NUMBER]`` — a customer texts the contact center (an Sms queue's number;
  default the account's only Sms queue); prints the conversation id. ``callyard sms --show ID`` shows it.

Each is a client of a running server through the control plane's simulator (``/_callyard/sim/chats``,
``/_callyard/sim/sms``), signed in like the other simulator commands.
"""
from __future__ import annotations

import argparse
import asyncio
from typing import Any

from callyard.sim.client import SimClient

CHAT_ACTIONS = ("start", "say", "show", "end")


def add_commands(sub: Any, conn: argparse.ArgumentParser) -> None:
    chat = sub.add_parser("chat", parents=[conn], help="a customer's web chat with the contact center")
    chat.add_argument("action", choices=CHAT_ACTIONS, help=" | ".join(CHAT_ACTIONS))
    chat.add_argument("target", metavar="NAME|ID", help="start: the customer's name; else the chat's id")
    chat.add_argument("text", nargs="?", help="start: the first message; say: the message")
    chat.add_argument("--email", help="start: the customer's e-mail address")
    chat.add_argument("--queue", help="start: the Chat queue (id, name or reporting number)")
    chat.add_argument("--subject", help="start: the chat's subject")
    sms = sub.add_parser("sms", parents=[conn], help="a customer texts the contact center")
    sms.add_argument("from_number", metavar="FROM", nargs="?", help="the customer's number")
    sms.add_argument("text", nargs="?", help="the message")
    sms.add_argument("--to", help="the Sms queue's number (default: the account's only Sms queue)")
    sms.add_argument("--show", metavar="ID", help="show an SMS conversation instead")


def _print(transcript: dict[str, Any]) -> None:
    head = f"{transcript['conversationId']} {transcript['state']}"
    if transcript.get("agentName"):
        head += f" with {transcript['agentName']}"
    elif transcript.get("positionInQueue"):
        head += f" (position {transcript['positionInQueue']} in {transcript.get('queueName')})"
    print(head)
    for message in transcript.get("messages", []):
        if "senderName" in message:
            print(f"  [{message['createdOn']}] {message['senderName']}: {message['body']}")
        else:
            arrow = "→" if message["direction"] == "in" else "←"
            print(f"  [{message['at']}] {arrow} {message['text']}")


def run(args: argparse.Namespace, client: SimClient) -> int:
    async def go() -> dict[str, Any]:
        async with client:
            if args.command == "sms":
                if args.show:
                    return dict(await client.request("GET", f"/_callyard/sim/sms/{args.show}", sim=True))
                body = {"from": args.from_number, "text": args.text, **({"to": args.to} if args.to else {})}
                return dict(await client.request("POST", "/_callyard/sim/sms", json=body, sim=True))
            if args.action == "start":
                body = {"name": args.target, **{k: v for k, v in (("text", args.text), ("email", args.email),
                                                                  ("queue", args.queue), ("subject", args.subject))
                                                 if v}}
                return dict(await client.request("POST", "/_callyard/sim/chats", json=body, sim=True))
            path = f"/_callyard/sim/chats/{args.target}"
            if args.action == "say":
                return dict(await client.request("POST", f"{path}/messages", json={"text": args.text}, sim=True))
            if args.action == "end":
                return dict(await client.request("POST", f"{path}/end", sim=True))
            return dict(await client.request("GET", path, sim=True))

    if args.command == "sms" and not args.show and not (args.from_number and args.text):
        print("callyard: sms needs FROM and TEXT (or --show ID)")
        return 2
    if args.command == "chat" and args.action == "say" and not args.text:
        print("callyard: chat say needs the TEXT")
        return 2
    _print(asyncio.run(go()))
    return 0
