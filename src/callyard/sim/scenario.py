"""Scenario files: call traffic against a running callyard server, described in YAML.

A scenario prepares the people at the phones (agent state, endpoint settings and behaviour profiles) and
then places outside calls on a schedule through the simulator routes (``/_callyard/sim``). It runs on the
wall clock, or with ``--virtual`` against a server started with ``--clock manual``, where the runner moves
the virtual clock itself (``POST /_callyard/clock/advance``) so ten scenario minutes take seconds.

Format (every key but ``name``, ``duration`` and ``traffic`` is optional; unknown keys are errors)::

    name: support-queue                 # shown in the progress and the summary
    description: free text
    duration: 300                       # seconds of traffic (scenario clock); `--duration` overrides
    drain: 60                           # then this long with no new calls, so calls can finish (default 0)
    reset: false                        # POST /_callyard/reset first (back to the tenant baseline)
    hangUpLiveCalls: false              # first hang up every call still live in the account (a clean start
                                        # without a reset: users, subscriptions and apps stay)
    maxErrorRate: 0.01                  # failed requests / requests above this → exit status 1
    setup:
      agents:                           # POST /_callyard/sim/agents/{userId}
        - user: alice@acme.example      # email, userId or extension
          loggedIn: true                # default true
          ready: true                   # optional; logging in makes an agent ready
          reason: Lunch                 # not-ready reason code
          skills: {billing: 5}          # skill → level 0..100
          presence: {<groupId>: false}  # per-queue presence
      endpoints:                        # PUT /_callyard/sim/endpoints/{number}
        "2880":
          profile: {mode: answer, answerAfter: [3, 8], talkSeconds: [30, 120]}
          noAnswerSeconds: 12           # and any endpoint setting: dnd, callWaiting, voicemail, outOfService,
          forwardBusy: "2881"           # forwardAlways/Busy/NoAnswer/Dnd, userAvailability, messageWaiting, …
    media: …                            # chat, SMS and open-media streams and the agents who answer them:
                                        # see callyard.sim.media_traffic
    traffic:                            # one or more call streams
      - name: inbound                   # label in the summary (default: the `to`)
        every: 2                        # seconds between calls — or `rate: 0.5` (calls per second)
        arrival: fixed                  # fixed (default) or poisson (exponential gaps with that mean)
        jitter: 0.5                     # fixed only: each gap ± up to this many seconds
        start: 0                        # seconds into the scenario (default 0)
        stop: 240                       # no new calls from this stream after (default: duration)
        count: 100                      # at most this many calls
        from: "+1613555{rand:4}"        # the outside caller: {rand:N} = N random digits, {n} = call number
        fromName: "Caller {n}"
        to: "5000"                      # a number, a list (uniform choice) or {number: weight, …}
        priority: 0                     # queue priority 0..100
        skill: billing                  # for skills-based queues
        callerProfile: {talkSeconds: [60, 180]}   # the caller hangs up this long after being answered
        abandonAfter: [30, 120]         # …and gives up if nobody answered within this many seconds

Durations (``answerAfter``, ``talkSeconds``, ``abandonAfter``) are seconds or ``[min, max]`` (uniform).
Profiles are the simulator's (``callyard.sim.profiles``): ``mode`` is ``manual`` (default), ``answer``
(after ``answerAfter``; ``answerAfter`` alone implies it), ``autoAnswer``, ``never`` or ``busy`` (rejects).
The caller's profile is set on the outside number's endpoint before it dials; ``abandonAfter`` is carried
out by the runner (it hangs the caller up if the call is still unanswered then).

Randomness (caller numbers, choices, gaps, patience) comes from the seed (``--seed``; one generator per
stream), drawn before the run starts, so a seed gives the same calls at the same scenario times; a drawn
caller number the server refuses (a DID of the account) is drawn again. The server draws profile delays
from its own generator (``callyard serve --seed``).

The summary counts every placed call once: *live at end* (still going when the run ended, answered or not:
a call that never finishes shows here), then for finished calls *answered* (a person picked up),
*voicemail*, *abandoned* (the runner hung up an unanswered caller), *rejected* (turned away at once: busy,
unobtainable, …), *unanswered* (ended otherwise without an answer), and *errors* (not placed); with the
API latency (p50/p95 of every request but clock advances), requests per second and per-queue statistics.
"""
from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import math
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (BaseModel, ConfigDict, Field, PlainValidator, ValidationError, ValidationInfo,
                      field_validator, model_validator)

from callyard.sim.client import ApiError, SimClient
from callyard.sim.media_traffic import MediaRunner, MediaSection

MODES = ("manual", "answer", "autoAnswer", "never", "busy")
MAX_SECONDS = 7 * 86400
_TEMPLATE = re.compile(r"\{([^{}]*)\}")
_PLACEHOLDER = re.compile(r"^(?:n|rand:([1-9][0-9]?))$")
_OUTSIDE = re.compile(r"^\+?[0-9]{7,15}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class ScenarioError(Exception):
    """An invalid scenario file; ``problems`` are ``file:line:column: field: message`` strings."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class RunnerError(Exception):
    """The run cannot start or go on (wrong clock mode, setup rejected, clock advance failed)."""


# ====================================================================== the file's model
def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError("must be a number of seconds")
    return value  # an int stays an int on the wire


def _duration(value: Any) -> float | tuple[float, float]:
    """Seconds, or ``[min, max]``."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError("a range is [min, max]")
        low, high = _number(value[0]), _number(value[1])
        if not 0 <= low <= high <= 86400:
            raise ValueError("a range [min, max] needs 0 <= min <= max <= 86400")
        return (low, high)
    seconds = _number(value)
    if not 0 <= seconds <= 86400:
        raise ValueError("seconds must be between 0 and 86400")
    return seconds


seconds_or_range = _duration   # the same reading for the media section (sim/media_traffic.py)


def _text(value: Any) -> str:
    """A number written without quotes in YAML (``to: 5000``) is the same number as text."""
    if isinstance(value, bool) or value is None:
        raise ValueError("must be a string")
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value.strip()


def _destinations(value: Any) -> dict[str, float]:
    """``"5000"``, ``["2881", "2882"]`` or ``{"2881": 3, "2882": 1}`` → number → weight."""
    if isinstance(value, dict):
        if not value:
            raise ValueError("name at least one number")
        out = {}
        for key, weight in value.items():
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight <= 0:
                raise ValueError(f"the weight of {key} must be a positive number")
            out[_text(key)] = float(weight)
        return out
    if isinstance(value, list):
        if not value:
            raise ValueError("name at least one number")
        return {_text(v): 1.0 for v in value}
    return {_text(value): 1.0}


Seconds = Annotated[float | tuple[float, float], PlainValidator(_duration)]
Text = Annotated[str, PlainValidator(_text)]
Destinations = Annotated[dict[str, float], PlainValidator(_destinations)]


def check_template(template: str, what: str, outside: bool = False) -> str:
    for match in _TEMPLATE.finditer(template):
        if not _PLACEHOLDER.match(match.group(1)):
            raise ValueError(f"unknown placeholder {{{match.group(1)}}} in {what}: use {{rand:N}} or {{n}}")
    if outside:
        sample = re.sub(r"[\s\-().]", "", render(template, random.Random(0), 1))
        if not _OUTSIDE.match(sample):
            raise ValueError(f"{what} must give an outside number (7 to 15 digits, optionally a leading +), "
                             f"e.g. {sample!r} does not")
    return template


def render(template: str, rng: random.Random, n: int) -> str:
    def one(match: re.Match[str]) -> str:
        key = match.group(1)
        if key == "n":
            return str(n)
        digits = int(key.split(":", 1)[1])
        return "".join(str(rng.randrange(10)) for _ in range(digits))
    return _TEMPLATE.sub(one, template)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Profile(Model):
    """The simulated person at an endpoint (or the outside caller)."""

    mode: Literal["manual", "answer", "autoAnswer", "never", "busy"] | None = None
    answerAfter: Seconds | None = None
    talkSeconds: Seconds | None = None
    device: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "Profile":
        if self.answerAfter is not None and self.mode not in ("answer", None):
            raise ValueError(f"answerAfter applies to mode answer, not {self.mode}")
        return self

    def wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.mode is not None or self.answerAfter is not None:
            out["mode"] = self.mode or "answer"
        for key in ("answerAfter", "talkSeconds"):
            value = getattr(self, key)
            if value is not None:
                out[key] = list(value) if isinstance(value, tuple) else value
        if self.device:
            out["device"] = self.device
        return out


class EndpointSetup(Model):
    profile: Profile | None = None
    dnd: bool | None = None
    messageWaiting: bool | None = None
    pstnRouting: bool | None = None
    outOfService: bool | None = None
    callWaiting: bool | None = None
    voicemail: bool | None = None
    userAvailability: Literal["available", "busy", "dnd", "away"] | None = None
    forwardAlways: Text | None = None
    forwardBusy: Text | None = None
    forwardNoAnswer: Text | None = None
    forwardDnd: Text | None = None
    noAnswerSeconds: float | None = Field(default=None, ge=1, le=600)

    def wire(self) -> dict[str, Any]:
        body = {k: v for k, v in self.model_dump(exclude_unset=True).items() if k != "profile"}
        if "profile" in self.model_fields_set:
            body["profile"] = self.profile.wire() if self.profile is not None else None
        return body


class AgentSetup(Model):
    user: Text
    loggedIn: bool = True
    ready: bool | None = None
    reason: str | None = None
    skills: dict[str, Annotated[int, Field(ge=0, le=100)]] | None = None
    presence: dict[str, bool] | None = None

    def wire(self) -> dict[str, Any]:
        body = self.model_dump(exclude={"user"}, exclude_none=True)
        body["loggedIn"] = self.loggedIn
        return body


class Setup(Model):
    agents: list[AgentSetup] = []
    endpoints: dict[Text, EndpointSetup] = {}


class Traffic(Model):
    name: str | None = None
    every: float | None = Field(default=None, gt=0, le=MAX_SECONDS)
    rate: float | None = Field(default=None, gt=0, le=1000)
    arrival: Literal["fixed", "poisson"] = "fixed"
    jitter: float = Field(default=0.0, ge=0, le=MAX_SECONDS)
    start: float = Field(default=0.0, ge=0, le=MAX_SECONDS)
    stop: float | None = Field(default=None, gt=0, le=MAX_SECONDS)
    count: int | None = Field(default=None, ge=1, le=1_000_000)
    from_: Text = Field(alias="from")
    fromName: str = ""
    to: Destinations
    priority: int = Field(default=0, ge=0, le=100)
    skill: str | None = None
    callerProfile: Profile | None = None
    abandonAfter: Seconds | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "Traffic":
        if (self.every is None) == (self.rate is None):
            raise ValueError("give exactly one of every (seconds between calls) or rate (calls per second)")
        if self.jitter and self.arrival == "poisson":
            raise ValueError("jitter applies to arrival: fixed (poisson gaps are random already)")
        if self.stop is not None and self.stop <= self.start:
            raise ValueError("stop must be after start")
        return self

    @field_validator("from_")
    @classmethod
    def _caller(cls, value: str) -> str:
        return check_template(value, "from", outside=True)

    @field_validator("fromName")
    @classmethod
    def _caller_name(cls, value: str) -> str:
        return check_template(value, "fromName")

    @property
    def gap(self) -> float:
        return self.every if self.every is not None else 1.0 / float(self.rate or 1.0)

    @property
    def label(self) -> str:
        return self.name or "→ " + ", ".join(self.to)


class Scenario(Model):
    name: Text
    description: str = ""
    duration: float = Field(gt=0, le=MAX_SECONDS)
    drain: float = Field(default=0.0, ge=0, le=MAX_SECONDS)
    reset: bool = False
    hangUpLiveCalls: bool = False
    maxErrorRate: float = Field(default=0.01, ge=0, le=1)
    setup: Setup = Setup()
    traffic: list[Traffic] = Field(min_length=1)
    media: MediaSection | None = None   # chat, SMS and open-media traffic (callyard.sim.media_traffic)

    @field_validator("traffic")
    @classmethod
    def _within(cls, traffic: list[Traffic], info: ValidationInfo) -> list[Traffic]:
        duration = info.data.get("duration")
        for index, stream in enumerate(traffic):
            if duration is not None and stream.start >= duration:
                raise ValueError(f"traffic[{index}] starts at {stream.start:g} s, not before the end of the "
                                 f"duration ({duration:g} s)")
        return traffic


# ====================================================================== loading with line numbers
def _locate(root: yaml.Node | None, loc: tuple[Any, ...], at_key: bool = False) -> tuple[yaml.Node | None, str]:
    """The YAML node an error's ``loc`` points at (the deepest that exists; its key with ``at_key``) and the
    field path as written, ``traffic[0].every`` / ``setup.endpoints.2880.profile``."""
    node, path, inside = root, "", True
    for index, part in enumerate(loc):
        if inside and isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            path += f"[{part}]"
            continue
        path += ("." if path else "") + str(part)
        if inside and isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if str(key.value) == str(part):
                    node = key if at_key and index == len(loc) - 1 else value
                    break
            else:
                inside = False
        else:
            inside = False
    return node, path or "(top level)"


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Parse and validate YAML text; raises ``ScenarioError`` naming the line and field of every problem."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError([f"{where}: not valid YAML: {problem}"]) from None
    if not isinstance(data, dict):
        raise ScenarioError([f"{source}:1:1: a scenario is a mapping with name, duration and traffic"])
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            node, path = _locate(root, tuple(error["loc"]), at_key=error["type"] == "extra_forbidden")
            where = f"{source}:{node.start_mark.line + 1}:{node.start_mark.column + 1}" if node else source
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown field"
            problems.append(f"{where}: {path}: {message}")
        raise ScenarioError(problems) from None


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    return parse_scenario(text, str(path))


# ====================================================================== the plan: every call, drawn up front
@dataclass
class PlannedCall:
    at: float
    stream: int
    n: int
    from_number: str
    from_name: str
    to: str
    abandon_after: float | None


def _pick(value: float | tuple[float, float] | None, rng: random.Random) -> float | None:
    if value is None:
        return None
    if isinstance(value, tuple):
        return rng.uniform(value[0], value[1])
    return float(value)


def arrival_times(stream: Traffic, duration: float, rng: random.Random) -> list[float]:
    end = min(stream.stop if stream.stop is not None else duration, duration)
    times: list[float] = []
    gap = stream.gap
    at = stream.start + (rng.expovariate(1.0 / gap) if stream.arrival == "poisson" else 0.0)
    while round(at, 6) < end and (stream.count is None or len(times) < stream.count):
        times.append(round(at, 6))
        if stream.arrival == "poisson":
            at += rng.expovariate(1.0 / gap)
        elif stream.jitter:
            at += max(0.0, gap + rng.uniform(-stream.jitter, stream.jitter))
        else:
            at = stream.start + len(times) * gap  # no drift from adding up a gap like 0.1
    return times


def plan_calls(scenario: Scenario, duration: float, seed: int, reserved: set[str] | None = None) -> list[PlannedCall]:
    """Every call of the run, in time order; ``reserved`` numbers (the account's DIDs) are never callers."""
    reserved = reserved or set()
    planned: list[PlannedCall] = []
    for index, stream in enumerate(scenario.traffic):
        rng = random.Random(f"{seed}:{index}")  # one generator per stream: adding a stream changes no other
        numbers, weights = list(stream.to), list(stream.to.values())
        for n, at in enumerate(arrival_times(stream, duration, rng), start=1):
            for _ in range(20):
                caller = render(stream.from_, rng, n)
                if caller not in reserved:
                    break
            planned.append(PlannedCall(at, index, n, caller, render(stream.fromName, rng, n),
                                       rng.choices(numbers, weights)[0] if len(numbers) > 1 else numbers[0],
                                       _pick(stream.abandonAfter, rng)))
    planned.sort(key=lambda c: (c.at, c.stream, c.n))
    return planned


def describe(scenario: Scenario, duration: float | None = None) -> list[str]:
    """Human lines for ``callyard scenario check``."""
    duration = duration or scenario.duration
    lines = [f"{scenario.name}: {duration:g} s of traffic" + (f" + {scenario.drain:g} s drain" if scenario.drain
                                                                else "")]
    if scenario.description:
        lines.append(f"  {scenario.description.strip()}")
    for agent in scenario.setup.agents:
        state = "logged in" if agent.loggedIn else "logged out"
        lines.append(f"  agent {agent.user}: {state}" + (f", skills {agent.skills}" if agent.skills else ""))
    for number, endpoint in scenario.setup.endpoints.items():
        lines.append(f"  endpoint {number}: {json.dumps(endpoint.wire(), separators=(', ', ': '))}")
    for stream in scenario.traffic:
        expected = len(arrival_times(stream, duration, random.Random(0)))
        approx = "~" if stream.arrival == "poisson" or stream.jitter else ""
        pace = f"every {stream.gap:g} s" + (" (poisson)" if stream.arrival == "poisson" else "")
        lines.append(f"  traffic {stream.label}: {pace} from {stream.from_} to {', '.join(stream.to)} "
                     f"→ {approx}{expected} calls")
    return lines


# ====================================================================== running
@dataclass
class Tracked:
    plan: PlannedCall
    call_id: str | None = None
    caller_leg: str | None = None
    outcome: str | None = None      # error | rejected | abandoned (decided by the runner)
    cause: str | None = None
    answered_by: str | None = None  # the endpoint that picked up
    voicemail: bool = False


@dataclass
class Summary:
    name: str
    seed: int
    virtual: bool
    scenario_seconds: float
    wall_seconds: float
    placed: int = 0
    answered: int = 0
    voicemail: int = 0
    abandoned: int = 0
    rejected: int = 0
    unanswered: int = 0
    live_at_end: int = 0
    call_errors: int = 0
    requests: int = 0
    errors: int = 0
    latency_p50_ms: float = 0.0
    latency_p95_ms: float = 0.0
    requests_per_second: float = 0.0
    max_error_rate: float = 0.0
    interrupted: bool = False
    rejected_causes: dict[str, int] = field(default_factory=dict)
    answered_by: dict[str, int] = field(default_factory=dict)
    streams: list[dict[str, Any]] = field(default_factory=list)
    queues: list[dict[str, Any]] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)
    media: dict[str, Any] = field(default_factory=dict)

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def ok(self) -> bool:
        return self.error_rate <= self.max_error_rate and not self.interrupted

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {**asdict(self), "errorRate": round(self.error_rate, 6), "ok": self.ok}


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


def print_summary(summary: Summary, console: Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    mode = "virtual clock" if summary.virtual else "wall clock"
    console.print(f"[bold]{summary.name}[/]: {summary.scenario_seconds:g} scenario seconds in "
                  f"{summary.wall_seconds:.1f} s ({mode}, seed {summary.seed})"
                  + ("  [yellow]interrupted[/]" if summary.interrupted else ""))
    calls = Table.grid(padding=(0, 2))
    calls.add_column(justify="right")
    calls.add_column()
    for label, value in (("placed", summary.placed), ("answered", summary.answered),
                         ("voicemail", summary.voicemail), ("abandoned", summary.abandoned),
                         ("rejected", summary.rejected), ("unanswered", summary.unanswered),
                         ("live at end", summary.live_at_end), ("not placed", summary.call_errors)):
        calls.add_row(str(value), label)
    console.print(calls)
    if summary.answered_by:
        console.print("answered by: " + ", ".join(f"{k} ×{v}" for k, v in sorted(summary.answered_by.items())))
    if summary.rejected_causes:
        console.print("rejected: " + ", ".join(f"{k} ×{v}" for k, v in sorted(summary.rejected_causes.items())))
    if summary.queues:
        queues = Table(title="queues", title_justify="left", show_edge=False)
        for title in ("queue", "offered", "answered", "abandoned", "waiting", "avg wait s"):
            queues.add_column(title, justify="right" if title != "queue" else "left")
        for q in summary.queues:
            queues.add_row(f"{q['name']} {q['number']}", str(q["offered"]), str(q["answered"]), str(q["abandoned"]),
                           str(q["waiting"]), f"{q['averageWaitSeconds']:.1f}")
        console.print(queues)
    for media, counts in summary.media.get("byMedia", {}).items():
        console.print(f"{media}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for q in summary.media.get("queues", []):
        console.print(f"  {q['name']} ({q['mediaType']}): offered {q['offered']}, answered {q['answered']}, "
                      f"abandoned {q['abandoned']}, waiting {q['waiting']}")
    verdict = "[green]ok[/]" if summary.ok else "[yellow]interrupted[/]" if summary.interrupted else "[red]FAILED[/]"
    console.print(f"requests: {summary.requests} ({summary.requests_per_second:g}/s), errors: {summary.errors} "
                  f"({summary.error_rate:.2%}, allowed {summary.max_error_rate:.2%}), API latency p50 "
                  f"{summary.latency_p50_ms:.1f} ms, p95 {summary.latency_p95_ms:.1f} ms — {verdict}")
    for sample in summary.error_samples:
        console.print(f"  [red]error[/] {escape(sample)}", highlight=False)


async def run_scenario(scenario: Scenario, client: SimClient, **options: Any) -> Summary:
    return await Runner(scenario, client, **options).run()
