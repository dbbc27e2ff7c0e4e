"""A scenario file's model (pydantic), and reading the YAML with every problem located at its line and field.

The format is described in the package's docstring (``callyard.sim.scenario``).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (BaseModel, ConfigDict, Field, PlainValidator, ValidationError, ValidationInfo,
                      field_validator, model_validator)

from callyard.sim.media_traffic import MediaSection
from callyard.sim.scenario.plan import check_template

MODES = ("manual", "answer", "autoAnswer", "never", "busy")
MAX_SECONDS = 7 * 86400


class ScenarioError(Exception):
    """An invalid scenario file; ``problems`` are ``file:line:column: field: message`` strings."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


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
