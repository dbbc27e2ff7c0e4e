"""The ``media`` section of a scenario file: contact-center traffic on the other media (web chat, SMS, open
media, e-mail) beside the calls, and the agents who answer it, so a load scenario mixes voice and these media.

Format::

    media:
      openMediaClient: {clientId: AcmeWallboard, secret: acme-wallboard-secret}   # who posts open media
                                        # (default: the first agent's own token)
      smtp: 127.0.0.1:2525              # the twin's SMTP listener, for e-mail streams (default: $CALLYARD_SMTP
                                        # or 127.0.0.1:2525; the server runs with --smtp-listen)
      agents:                           # employees the runner plays through the CX SDK (their own token)
        - user: carol                   # CX user name (username, e-mail)
          password: callyard            # default: the runner's --password
          acceptAfter: [1, 4]           # seconds from the offer to Accept
          handleSeconds: [20, 60]       # seconds from Accept to the reply (Send; chat and SMS) and End
          reply: "Thanks {name}, done." # {name}: the customer, {n}: the item's number
      streams:
        - name: web chat                # label in the summary
          media: chat                   # chat | sms | openMedia | email
          every: 30                     # or rate:, arrival: poisson, jitter:, start:, stop:, count: (as traffic)
          from: "Customer {n}"          # chat: the customer's name; sms: their number ({rand:N} digits);
                                        # openMedia: the posting system's name; email: the sender's address
          to: Web Chat                  # the queue (id, name, reporting; sms: the queue's number; email: the
                                        # queue's address); default the account's only queue of that media
          text: "Question {n}"          # the first message (chat, sms, the e-mail's body) or the subject
                                        # (openMedia, email: the subject is "{text}" and the body too)
          abandonAfter: [60, 120]       # still waiting then: the customer leaves (chat) / the third party
                                        # completes it (openMedia); an SMS waits on

The runner logs each agent in (``PUT /employees/me/state``), looks at their inbox at every sample and plays
them (an e-mail is accepted with ``emailAcceptType`` Reply and answered with Send); the summary counts per
media the items placed, accepted, handled, abandoned and waiting at the end, and
the media queues' numbers (``GET /queues/state``).
"""
from __future__ import annotations

import random
import time
from collections import Counter
from typing import TYPE_CHECKING, Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from callyard.sim.client import ApiError

if TYPE_CHECKING:
    from callyard.sim.scenario import Runner

CX = "/miccsdk/api/v1"
MEDIA = ("chat", "sms", "openMedia", "email")
DEFAULT_SMTP = "127.0.0.1:2525"
MAX_SECONDS = 7 * 86400


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _seconds(value: Any) -> float | tuple[float, float]:
    from callyard.sim.scenario import seconds_or_range
    return seconds_or_range(value)


class MediaAgent(_Model):
    user: str = Field(min_length=1)
    password: str | None = None
    acceptAfter: Any = 2
    handleSeconds: Any = 30
    reply: str = "Thank you {name}."

    @field_validator("acceptAfter", "handleSeconds")
    @classmethod
    def _span(cls, value: Any) -> Any:
        return _seconds(value)


class OpenMediaClient(_Model):
    clientId: str = Field(min_length=1)
    secret: str = Field(min_length=1)


class MediaStream(_Model):
    name: str | None = None
    media: Literal["chat", "sms", "openMedia", "email"]
    every: float | None = Field(default=None, gt=0, le=MAX_SECONDS)
    rate: float | None = Field(default=None, gt=0, le=1000)
    arrival: Literal["fixed", "poisson"] = "fixed"
    jitter: float = Field(default=0.0, ge=0, le=MAX_SECONDS)
    start: float = Field(default=0.0, ge=0, le=MAX_SECONDS)
    stop: float | None = Field(default=None, gt=0, le=MAX_SECONDS)
    count: int | None = Field(default=None, ge=1, le=1_000_000)
    from_: str = Field(alias="from", min_length=1)
    to: str | None = None
    text: str = Field(default="Hello, this is {n}", min_length=1)
    abandonAfter: Any = None

    @field_validator("abandonAfter")
    @classmethod
    def _span(cls, value: Any) -> Any:
        return None if value is None else _seconds(value)

    @field_validator("from_", "text")
    @classmethod
    def _template(cls, value: str) -> str:
        from callyard.sim.scenario import check_template
        return check_template(value, "from")

    @model_validator(mode="after")
    def _consistent(self) -> "MediaStream":
        if (self.every is None) == (self.rate is None):
            raise ValueError("give exactly one of every (seconds between items) or rate (items per second)")
        if self.stop is not None and self.stop <= self.start:
            raise ValueError("stop must be after start")
        if self.media == "email" and ("@" not in (self.to or "") or "@" not in self.from_):
            raise ValueError("an email stream sends from an address (from) to the Email queue's address (to)")
        return self

    @property
    def gap(self) -> float:
        return self.every if self.every is not None else 1.0 / float(self.rate or 1.0)

    @property
    def label(self) -> str:
        return self.name or f"{self.media} → {self.to or 'its queue'}"


class MediaSection(_Model):
    agents: list[MediaAgent] = []
    streams: list[MediaStream] = Field(default=[], min_length=0)
    openMediaClient: OpenMediaClient | None = None
    smtp: str | None = Field(default=None, pattern=r"^[^:\s]+:\d{1,5}$")


class Item:
    """One planned interaction and what became of it."""

    def __init__(self, stream: int, n: int, at: float, sender: str, text: str, patience: float | None) -> None:
        self.stream, self.n, self.at, self.sender, self.text, self.patience = stream, n, at, sender, text, patience
        self.conversation_id: str | None = None
        self.outcome: str | None = None     # error | abandoned


class MediaRunner:
    """The media side of a scenario run (``Runner.media``): planned items and the agents' work."""

    def __init__(self, runner: "Runner") -> None:
        assert runner.scenario.media is not None
        self.runner = runner
        self.section: MediaSection = runner.scenario.media
        self.client = runner.client
        self.tokens: dict[str, str] = {}          # agent user → CX token
        self.poster: str | None = None            # the token that posts open media
        self.items: list[Item] = []
        self.scheduled: set[str] = set()          # conversations the runner plays already
        self.accepted: set[str] = set()
        self.handled: set[str] = set()

    # ------------------------------------------------------------------ plumbing
    async def _cx(self, method: str, path: str, token: str | None, *, json: Any = None, data: Any = None,
                  benign: tuple[int, ...] = ()) -> Any:
        """A CX SDK request with a CX token (timed and counted with the run's requests)."""
        http = self.client.http
        assert http is not None
        started = time.perf_counter()
        self.client.stats.requests += 1
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            response = await http.request(method, path, json=json, data=data, headers=headers)
        except httpx.HTTPError as exc:
            self.client.stats.errors.append(f"{method} {path}: {exc.__class__.__name__}")
            raise ApiError(method, path, 0, exc.__class__.__name__, str(exc)) from None
        self.client.stats.latencies.append(time.perf_counter() - started)
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            name = str(body.get("errorCode") or body.get("error") or response.status_code)
            if response.status_code not in benign:
                self.client.stats.errors.append(f"{method} {path} → {response.status_code} {name}")
            raise ApiError(method, path, response.status_code, name, str(body.get("message") or response.text))
        return response.json() if response.content else None

    async def _token(self, **form: str) -> str:
        answer = await self._cx("POST", "/AuthorizationServer/Token", None, data=form)
        return str(answer["access_token"])

    # ------------------------------------------------------------------ setup and plan
    async def setup(self) -> None:
        from callyard.sim.scenario import RunnerError
        for agent in self.section.agents:
            try:
                token = await self._token(grant_type="password", username=agent.user,
                                          password=agent.password or self.client.password or "callyard")
                await self._cx("PUT", f"{CX}/employees/me/state", token,
                               json={"state": "Available", "availableReason": "Login"})
            except ApiError as exc:
                raise RunnerError(f"media.agents: {agent.user} cannot log in: {exc}") from None
            self.tokens[agent.user] = token
        client = self.section.openMediaClient
        if client is not None:
            try:
                self.poster = await self._token(grant_type="client_credentials", client_id=client.clientId,
                                                client_secret=client.secret)
            except ApiError as exc:
                raise RunnerError(f"media.openMediaClient: {exc}") from None
        elif self.tokens:
            self.poster = next(iter(self.tokens.values()))
        if any(s.media == "openMedia" for s in self.section.streams) and self.poster is None:
            raise RunnerError("media: an openMedia stream needs media.openMediaClient or an agent")

    def plan(self) -> None:
        from callyard.sim.scenario import arrival_times, render
        runner = self.runner
        for index, stream in enumerate(self.section.streams):
            rng = random.Random(f"{runner.seed}:media:{index}")
            for n, at in enumerate(arrival_times(stream, runner.duration, rng), start=1):  # type: ignore[arg-type]
                patience = None
                if isinstance(stream.abandonAfter, tuple):
                    patience = rng.uniform(*stream.abandonAfter)
                elif stream.abandonAfter is not None:
                    patience = float(stream.abandonAfter)
                item = Item(index, n, at, render(stream.from_, rng, n), render(stream.text, rng, n), patience)
                self.items.append(item)
                runner._push(at, "media-place", item)

    # ------------------------------------------------------------------ the customers and the agents
    async def dispatch(self, kind: str, payload: Any) -> None:
        try:
            if kind == "media-place":
                await self._place(payload)
            elif kind == "media-abandon":
                await self._abandon(payload)
            elif kind == "media-accept":
                await self._accept(*payload)
            elif kind == "media-finish":
                await self._finish(*payload)
        except ApiError:
            pass   # counted by _cx / the client

    async def _place(self, item: Item) -> None:
        stream = self.section.streams[item.stream]
        if stream.media == "chat":
            body = {"name": item.sender, "text": item.text, **({"queue": stream.to} if stream.to else {})}
            answer = await self.client.request("POST", "/_callyard/sim/chats", json=body, sim=True)
        elif stream.media == "sms":
            body = {"from": item.sender, "text": item.text, **({"to": stream.to} if stream.to else {})}
            answer = await self.client.request("POST", "/_callyard/sim/sms", json=body, sim=True)
        elif stream.media == "email":
            answer = {"conversationId": await self._mail(item, stream)}
        else:
            body = {"from": item.sender, "subject": item.text, **({"queue": stream.to} if stream.to else {})}
            answer = await self._cx("POST", f"{CX}/openmedia", self.poster, json=body)
            answer = {"conversationId": answer["id"]}
        item.conversation_id = answer["conversationId"]
        if item.patience is not None:
            self.runner._push(item.at + item.patience, "media-abandon", item)

    async def _mail(self, item: Item, stream: MediaStream) -> str:
        """A customer's e-mail over SMTP to the queue's address; the conversation id from the server's 250."""
        import asyncio
        import os
        import smtplib
        from email.message import EmailMessage
        from email.policy import SMTP as SMTP_POLICY

        address = self.section.smtp or os.environ.get("CALLYARD_SMTP") or DEFAULT_SMTP
        host, _, port = address.rpartition(":")
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = item.sender, stream.to or "", item.text
        message.set_content(item.text)

        def send() -> tuple[int, bytes]:
            with smtplib.SMTP(host, int(port), timeout=30) as smtp:
                smtp.ehlo()
                smtp.mail(item.sender)
                code, reply = smtp.rcpt(stream.to or "")
                if code >= 400:
                    smtp.rset()
                    return code, reply
                return smtp.data(message.as_bytes(policy=SMTP_POLICY))

        self.client.stats.requests += 1
        started = time.perf_counter()
        try:
            code, reply = await asyncio.to_thread(send)
        except (OSError, smtplib.SMTPException) as exc:
            self.client.stats.errors.append(f"SMTP {address}: {exc}")
            raise ApiError("SMTP", address, 0, exc.__class__.__name__, str(exc)) from None
        self.client.stats.latencies.append(time.perf_counter() - started)
        if code >= 400:
            self.client.stats.errors.append(f"SMTP {address} → {code} {reply.decode(errors='replace')}")
            raise ApiError("SMTP", address, code, str(code), reply.decode(errors="replace"))
        return reply.decode().rsplit(" ", 1)[-1]

    async def _abandon(self, item: Item) -> None:
        if item.conversation_id is None or item.conversation_id in self.accepted:
            return
        stream = self.section.streams[item.stream]
        if stream.media == "chat":
            state = await self.client.request("GET", f"/_callyard/sim/chats/{item.conversation_id}", sim=True)
            if state["state"] in ("InQueue", "Offered"):
                await self.client.request("POST", f"/_callyard/sim/chats/{item.conversation_id}/end", sim=True,
                                          benign=(409,))
                item.outcome = "abandoned"
        elif stream.media == "openMedia":
            try:
                current = await self._cx("GET", f"{CX}/openmedia/{item.conversation_id}", self.poster, benign=(404,))
            except ApiError:
                return
            if current["conversationState"] in ("InQueue", "Offered"):
                await self._cx("PUT", f"{CX}/openmedia/{item.conversation_id}", self.poster,
                               json={"action": "Complete"}, benign=(404,))
                item.outcome = "abandoned"

    async def sample(self) -> None:
        """Each agent's inbox: offers not yet played are accepted after the agent's ``acceptAfter``."""
        for agent in self.section.agents:
            token = self.tokens.get(agent.user)
            if token is None:
                continue
            try:
                inbox = await self._cx("GET", f"{CX}/employees/me/conversations", token)
            except ApiError:
                continue
            for conversation in inbox["_embedded"]["items"]:
                cid = conversation["conversationId"]
                if conversation["conversationState"] == "Offered" and cid not in self.scheduled \
                        and conversation["mediaType"] != "Voice":
                    self.scheduled.add(cid)
                    delay = self._draw(agent.acceptAfter, cid)
                    self.runner._push(self.runner.now + delay, "media-accept", (agent, conversation))

    def _draw(self, value: Any, key: str) -> float:
        if isinstance(value, tuple):
            return random.Random(f"{self.runner.seed}:{key}").uniform(*value)
        return float(value)

    async def _accept(self, agent: MediaAgent, conversation: dict[str, Any]) -> None:
        cid = conversation["conversationId"]
        try:
            accept: dict[str, Any] = {"conversationAction": "Accept"}
            if conversation["mediaType"] == "Email":   # accepted to reply (a ReplyDraft is started)
                accept["tags"] = [{"key": "emailAcceptType", "value": "Reply"}]
            await self._cx("PUT", f"{CX}/employees/me/conversations/{cid}", self.tokens[agent.user],
                           json=accept, benign=(404, 409))
        except ApiError:
            self.scheduled.discard(cid)   # withdrawn or completed meanwhile: it may be offered again
            return
        self.accepted.add(cid)
        self.runner._push(self.runner.now + self._draw(agent.handleSeconds, cid + ":handle"), "media-finish",
                          (agent, conversation))

    async def _finish(self, agent: MediaAgent, conversation: dict[str, Any]) -> None:
        cid, token = conversation["conversationId"], self.tokens[agent.user]
        path = f"{CX}/employees/me/conversations/{cid}"
        if conversation["mediaType"] in ("Chat", "Sms", "Email"):   # an e-mail's Send also ends it
            reply = agent.reply.replace("{name}", str(conversation.get("fromName") or "")).replace(
                "{n}", str(len(self.handled) + 1))
            await self._cx("PUT", path, token, json={"conversationAction": "Send", "tags": [
                {"key": "body", "value": reply}]}, benign=(404, 409))
        if conversation["mediaType"] != "Email":   # sending an e-mail ends it
            await self._cx("PUT", path, token, json={"conversationAction": "End"}, benign=(404, 409))
        self.handled.add(cid)

    # ------------------------------------------------------------------ summing up
    async def summary(self) -> dict[str, Any]:
        by_media: dict[str, Counter[str]] = {}
        for item in self.items:
            stream = self.section.streams[item.stream]
            counts = by_media.setdefault(stream.media, Counter())
            if item.conversation_id is None:
                counts["notPlaced" if item.at <= self.runner.now else "notDue"] += 1
                continue
            counts["placed"] += 1
            counts["accepted"] += item.conversation_id in self.accepted
            counts["handled"] += item.conversation_id in self.handled
            counts["abandoned"] += item.outcome == "abandoned"
        queues: list[dict[str, Any]] = []
        token = next(iter(self.tokens.values()), None) or self.poster
        if token is not None:
            try:
                states = await self._cx("GET", f"{CX}/queues/state", token)
                queues = [{"name": q["name"], "mediaType": q["mediaType"],
                           "offered": q["offeredConversationsToday"], "answered": q["answeredConversationsToday"],
                           "abandoned": q["abandonedConversationsToday"], "waiting": q["waitingConversations"]}
                          for q in states["_embedded"]["items"] if q["mediaType"] != "Voice"]
            except ApiError:
                pass
        return {"streams": [{"stream": s.label, "media": s.media} for s in self.section.streams],
                "byMedia": {media: dict(counts) for media, counts in by_media.items()}, "queues": queues}
