"""The runner: sets the phones up, places the planned calls on the scenario clock (wall or virtual), watches
them, and sums the run up."""
from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import random
import re
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from callyard.sim.client import ApiError, SimClient
from callyard.sim.media_traffic import MediaRunner
from callyard.sim.scenario.model import Scenario
from callyard.sim.scenario.plan import PlannedCall, plan_calls, render
from callyard.sim.scenario.summary import Summary

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class RunnerError(Exception):
    """The run cannot start or go on (wrong clock mode, setup rejected, clock advance failed)."""


@dataclass
class Tracked:
    plan: PlannedCall
    call_id: str | None = None
    caller_leg: str | None = None
    outcome: str | None = None      # error | rejected | abandoned (decided by the runner)
    cause: str | None = None
    answered_by: str | None = None  # the endpoint that picked up
    voicemail: bool = False


class Runner:
    """Sets up, places the calls on schedule, watches, and sums up. ``await Runner(…).run()``."""

    def __init__(self, scenario: Scenario, client: SimClient, *, virtual: bool = False, seed: int | None = None,
                 speed: float | None = None, duration: float | None = None, console: Any = None,
                 progress: bool = True, tick: float = 1.0, max_error_rate: float | None = None) -> None:
        self.scenario = scenario
        self.client = client
        self.virtual = virtual
        self.seed = seed if seed is not None else random.SystemRandom().randrange(1, 2**31)
        self.speed = speed
        self.duration = duration if duration is not None else scenario.duration
        self.total = self.duration + scenario.drain
        self.console = console
        self.progress = progress
        self.tick = tick
        self.max_error_rate = scenario.maxErrorRate if max_error_rate is None else max_error_rate
        self.now = 0.0                    # scenario seconds
        self.wall_start = time.monotonic()
        self.tracked: list[Tracked] = []
        self.by_call: dict[str, Tracked] = {}
        self.caller_profiles: dict[str, Any] = {}
        self.reserved: set[str] = set()   # drawn caller numbers the server refused (DIDs of the account)
        self.live = 0
        self.waiting = 0
        self.live_ids: set[str] = set()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.interrupted = False
        self._seq = itertools.count()
        self._last_step = -1              # the last tenth of the run a progress line was printed for
        self.media = MediaRunner(self) if scenario.media is not None else None

    # ------------------------------------------------------------------ setup
    async def _check_clock(self) -> None:
        mode = (await self.client.clock()).get("mode")
        if self.virtual and mode != "manual":
            raise RunnerError("--virtual needs a server started with --clock manual (this one runs the real clock)")
        if not self.virtual and mode == "manual":
            raise RunnerError("the server's clock is manual: nothing rings on or answers unless the clock moves; "
                              "run with --virtual")

    async def _user_ids(self) -> dict[str, str]:
        wanted = [a.user for a in self.scenario.setup.agents if not _UUID.match(a.user)]
        if not wanted:
            return {}
        try:
            users = await self.client.users()
        except ApiError as exc:
            raise RunnerError(f"cannot list the account's users to find {', '.join(wanted)}: {exc}") from None
        index: dict[str, str] = {}
        for user in users:
            for key in ("email", "extension", "loginId", "userId"):
                if user.get(key):
                    index.setdefault(str(user[key]).lower(), user["userId"])
        return index

    async def prepare(self) -> None:
        await self._check_clock()
        if self.scenario.reset:
            await self._fatal(self.client.reset(), "reset")
        if self.scenario.hangUpLiveCalls:
            await self.hang_up_live_calls()

    async def hang_up_live_calls(self) -> None:
        """Hang up every leg of every live call of the account (calls left by an earlier run), so this run
        starts on idle phones. A leg already gone by the time its turn comes is no error."""
        for call in await self._fatal(self.client.live_calls(), "listing the live calls"):
            for leg in call.get("legs", []):
                try:
                    await self.client.phone(leg["endpointId"], "hangup", call_id=leg["legId"],
                                            benign=(400, 404, 409))
                except ApiError as exc:
                    if exc.status not in (400, 404, 409):
                        raise RunnerError(f"hanging up call {call['callId']} failed: {exc}") from None
        left = await self._fatal(self.client.live_calls(), "listing the live calls")
        if left:
            raise RunnerError(f"{len(left)} live call(s) remain after hanging up every leg")

    async def setup(self) -> None:
        users = await self._user_ids()
        for agent in self.scenario.setup.agents:
            user_id = agent.user if _UUID.match(agent.user) else users.get(agent.user.lower())
            if user_id is None:
                raise RunnerError(f"setup.agents: no user {agent.user} in the account")
            await self._fatal(self.client.agent(user_id, agent.wire()), f"setup of agent {agent.user}")
        for number, endpoint in self.scenario.setup.endpoints.items():
            await self._fatal(self.client.configure(number, endpoint.wire()), f"setup of endpoint {number}")

    async def _fatal(self, request: Any, what: str) -> Any:
        try:
            return await request
        except ApiError as exc:
            raise RunnerError(f"{what} failed: {exc}") from None

    # ------------------------------------------------------------------ the calls
    async def _place(self, track: Tracked) -> None:
        plan = track.plan
        stream = self.scenario.traffic[plan.stream]
        profile = stream.callerProfile.wire() if stream.callerProfile else None
        drawn = "{rand:" in stream.from_
        # A drawn number that is one of the account's DIDs is no outside caller: draw again.
        benign = ((404, "EndpointNotFound"), (400, "InvalidFrom")) if drawn else ()
        for attempt in range(1, 7):
            if drawn and plan.from_number in self.reserved:
                plan.from_number = render(stream.from_, random.Random(f"{self.seed}:{plan.stream}:{plan.n}:{attempt}"),
                                          plan.n)
                continue
            try:
                if self.caller_profiles.get(plan.from_number) != profile:
                    await self.client.configure(plan.from_number, {"profile": profile}, benign=benign)
                    self.caller_profiles[plan.from_number] = profile
                answer = await self.client.place_call(plan.from_number, plan.to, from_name=plan.from_name,
                                                      priority=stream.priority, skill=stream.skill, benign=benign)
                break
            except ApiError as exc:
                if (exc.status, exc.name) in benign and attempt < 6:
                    self.reserved.add(plan.from_number)
                    continue
                if (exc.status, exc.name) in benign:
                    self.client.stats.errors.append(str(exc))
                track.outcome, track.cause = "error", exc.name
                return
        else:
            track.outcome, track.cause = "error", "NoOutsideNumber"
            self.client.stats.errors.append(f"no outside number drawn from {stream.from_} for call {plan.n}")
            return
        track.call_id, track.caller_leg = answer["callId"], answer["caller"]["legId"]
        self.by_call[track.call_id] = track
        if answer["caller"]["state"] == "completed":
            track.outcome, track.cause = "rejected", answer["caller"].get("cause")
        elif plan.abandon_after is not None:
            self._push(plan.at + plan.abandon_after, "abandon", track)

    async def _abandon(self, track: Tracked) -> None:
        """The caller's patience ran out: hang up if nobody has answered yet."""
        if track.outcome or track.answered_by or track.voicemail or not track.caller_leg:
            return
        number = track.plan.from_number
        try:
            endpoint = await self.client.endpoint(number)
            leg = next((c for c in endpoint.get("calls", []) if c["legId"] == track.caller_leg), None)
            if leg is None or leg.get("answeredOn"):
                return  # the call is over, or answered (by a person or voicemail): the samples tell which
            await self.client.phone(number, "hangup", call_id=track.caller_leg, benign=(404, 409))
            track.outcome = "abandoned"
        except ApiError as exc:
            if exc.status not in (404, 409):
                return
            # 404/409: the call ended or moved on between looking and hanging up

    async def _sample(self) -> None:
        """Live calls and queues: the progress figures, and who answered which call."""
        try:
            calls = await self.client.live_calls()
        except ApiError:
            return
        self.live = len(calls)
        self.waiting = sum(1 for c in calls if c.get("queueId") and not any(  # queued, no agent talking yet
            leg.get("endpointKind") == "extension" and leg.get("state") in ("connected", "held")
            for leg in c.get("legs", [])))
        self.live_ids = {c["callId"] for c in calls}
        if self.media is not None:
            await self.media.sample()
        for call in calls:
            track = self.by_call.get(call["callId"])
            if track is not None and track.outcome is None:
                self._observe(track, call["legs"])

    def _observe(self, track: Tracked, legs: list[dict[str, Any]]) -> None:
        for leg in legs:
            if leg["legId"] == track.caller_leg:
                continue
            if leg.get("endpointKind") == "voicemail":
                track.voicemail = True
            elif leg.get("endpointKind") == "extension" and leg.get("state") in ("connected", "held") \
                    and track.answered_by is None and not track.voicemail:
                track.answered_by = leg["endpointId"]

    async def _reconcile(self) -> None:
        """Calls answered and over between two samples: the call records (admin token) tell."""
        try:
            records = await self.client.call_records()
        except ApiError:
            return
        for record in sorted(records, key=lambda r: r.get("createdOn") or ""):
            try:
                extra = json.loads(record.get("extraPbxData") or "{}")
            except ValueError:
                continue
            track = self.by_call.get(extra.get("callTrackingID", ""))
            if track is None or not record.get("completed") or track.answered_by or track.voicemail:
                continue
            if track.outcome in ("rejected", "abandoned"):
                continue
            track.answered_by = extra.get("endpointId") or record.get("to")

    # ------------------------------------------------------------------ the clock
    def _push(self, at: float, kind: str, payload: Any = None) -> None:
        heapq.heappush(self.heap, (at, next(self._seq), kind, payload))

    async def _wait_until(self, at: float) -> None:
        if self.virtual:
            if at > self.now:
                try:
                    await self.client.advance(at - self.now)
                except ApiError as exc:
                    raise RunnerError(f"cannot advance the virtual clock: {exc}") from None
                self.now = at
            if self.speed:
                delay = self.wall_start + at / self.speed - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
        else:
            delay = self.wall_start + at / (self.speed or 1.0) - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self.now = max(self.now, at)

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _dispatch(self, kind: str, payload: Any) -> None:
        if kind.startswith("media-") and self.media is not None:
            await self.media.dispatch(kind, payload)
            return
        work = {"call": self._place, "abandon": self._abandon}.get(kind)
        if work is None:  # a sample
            await self._sample()
            self._progress_line()
            if self.now + self.tick <= self.total:
                self._push(self.now + self.tick, "sample")
            return
        if self.virtual:
            await work(payload)  # in order: the virtual clock must not move under a request
        else:
            self._spawn(work(payload))

    async def _traffic(self) -> None:
        self.heap: list[tuple[float, int, str, Any]] = []
        for plan in plan_calls(self.scenario, self.duration, self.seed, self.reserved):
            track = Tracked(plan)
            self.tracked.append(track)
            self._push(plan.at, "call", track)
        if self.media is not None:
            self.media.plan()
        self._push(0.0, "sample")
        self.wall_start = time.monotonic()
        self.client.stats.started = self.wall_start
        while self.heap and self.heap[0][0] <= self.total:
            at, _, kind, payload = heapq.heappop(self.heap)
            await self._wait_until(at)
            await self._dispatch(kind, payload)
        await self._wait_until(self.total)
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)

    async def run(self) -> Summary:
        await self.prepare()
        before = {q["groupId"]: q for q in await self._fatal(self.client.queues(), "reading the queues")}
        await self.setup()
        if self.media is not None:
            await self.media.setup()
        live = None
        if self.progress and self.console is not None and self.console.is_terminal:
            from rich.live import Live

            live = Live(console=self.console, get_renderable=self.render, refresh_per_second=4, transient=True)
            live.start()
        try:
            await self._traffic()
        except asyncio.CancelledError:
            self.interrupted = True
            for task in list(self.tasks):
                task.cancel()
        finally:
            if live is not None:
                live.stop()
        wall = time.monotonic() - self.wall_start
        await self._sample()
        await self._reconcile()
        after = await self.client.queues() if not self.interrupted else []
        summary = self._summary(before, after, wall)
        if self.media is not None and not self.interrupted:
            summary.media = await self.media.summary()
        return summary

    # ------------------------------------------------------------------ reporting
    def _progress_line(self) -> None:
        """Without a terminal (CI, a pipe, a log file) the live table is off: a plain line at every tenth of
        the run instead, so a long run shows it is alive."""
        if not self.progress or self.console is None or self.console.is_terminal:
            return
        step = int(10 * self.now / self.total) if self.total else 10
        if step <= self._last_step:
            return
        self._last_step = step
        counts = self.counts()
        self.console.print(f"{self.scenario.name}: {self.now:,.0f}/{self.total:,.0f} s  placed {counts['placed']}  "
                           f"live {self.live}  waiting {self.waiting}  answered {counts['answered']}  "
                           f"voicemail {counts['voicemail']}  abandoned {counts['abandoned']}  "
                           f"rejected {counts['rejected']}  failures {len(self.client.stats.errors)}",
                           highlight=False, soft_wrap=True)

    def counts(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for track in self.tracked:
            if track.outcome == "error":
                out["call_errors"] += 1
                continue
            if track.call_id is None:
                continue  # not placed yet
            out["placed"] += 1
            if track.outcome == "rejected":
                out["rejected"] += 1
            elif track.outcome == "abandoned":
                out["abandoned"] += 1
            elif track.call_id in self.live_ids:
                out["live_at_end"] += 1   # still going (answered or not): not over, whatever it did so far
            elif track.answered_by:
                out["answered"] += 1
            elif track.voicemail:
                out["voicemail"] += 1
            else:
                out["unanswered"] += 1
        return out

    def render(self) -> Any:
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        counts = self.counts()
        stats = self.client.stats
        head = Table.grid(padding=(0, 1))
        head.add_row(f"[bold]{self.scenario.name}[/]", ProgressBar(total=self.total, completed=self.now, width=30),
                     f"{self.now:,.0f}/{self.total:,.0f} s" + (" (virtual)" if self.virtual else ""))
        figures = [("placed", counts["placed"]), ("live", self.live), ("waiting", self.waiting),
                   ("answered", counts["answered"]), ("voicemail", counts["voicemail"]),
                   ("abandoned", counts["abandoned"]), ("rejected", counts["rejected"]),
                   ("failures", len(stats.errors)), ("req/s", f"{stats.rate():.0f}")]
        line = Text()
        for label, value in figures:
            style = "red" if label == "failures" and value else "bold"
            line.append(f"{label} ").append(str(value), style=style).append("   ")
        return Group(head, line)

    def _summary(self, before: dict[str, dict[str, Any]], after: list[dict[str, Any]], wall: float) -> Summary:
        counts = self.counts()
        stats = self.client.stats
        summary = Summary(
            name=self.scenario.name, seed=self.seed, virtual=self.virtual, scenario_seconds=round(self.now, 3),
            wall_seconds=round(wall, 3), placed=counts["placed"], answered=counts["answered"],
            voicemail=counts["voicemail"], abandoned=counts["abandoned"], rejected=counts["rejected"],
            unanswered=counts["unanswered"], live_at_end=counts["live_at_end"], call_errors=counts["call_errors"],
            requests=stats.requests, errors=len(stats.errors),
            latency_p50_ms=round(stats.percentile(0.50) * 1000, 2),
            latency_p95_ms=round(stats.percentile(0.95) * 1000, 2),
            requests_per_second=round(stats.requests / wall, 1) if wall > 0 else 0.0,
            max_error_rate=self.max_error_rate, interrupted=self.interrupted,
            rejected_causes=dict(Counter(t.cause or "?" for t in self.tracked if t.outcome == "rejected")),
            answered_by=dict(Counter(t.answered_by for t in self.tracked if t.answered_by)),
            error_samples=list(dict.fromkeys(stats.errors))[:5])
        for index, stream in enumerate(self.scenario.traffic):
            mine = [t for t in self.tracked if t.plan.stream == index and (t.call_id or t.outcome)]
            summary.streams.append({"traffic": stream.label, "placed": sum(1 for t in mine if t.call_id),
                                    "answered": sum(1 for t in mine if t.answered_by)})
        for queue in after:
            was = before.get(queue["groupId"], {})
            delta = {key: max(0, int(queue.get(key, 0)) - int(was.get(key, 0)))
                     for key in ("offeredToday", "answeredToday", "abandonedToday")}
            if any(delta.values()) or queue.get("waiting"):
                summary.queues.append({"name": queue.get("name"), "number": queue.get("number"),
                                       "offered": delta["offeredToday"], "answered": delta["answeredToday"],
                                       "abandoned": delta["abandonedToday"], "waiting": queue.get("waiting", 0),
                                       "averageWaitSeconds": queue.get("averageWaitSeconds", 0.0)})
        return summary


async def run_scenario(scenario: Scenario, client: SimClient, **options: Any) -> Summary:
    return await Runner(scenario, client, **options).run()
