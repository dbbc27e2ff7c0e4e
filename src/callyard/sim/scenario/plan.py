"""The plan: every call of a run, drawn up front from the seed; the caller templates (``{rand:N}``, ``{n}``)."""
from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from callyard.sim.scenario.model import Scenario, Traffic

_TEMPLATE = re.compile(r"\{([^{}]*)\}")
_PLACEHOLDER = re.compile(r"^(?:n|rand:([1-9][0-9]?))$")
_OUTSIDE = re.compile(r"^\+?[0-9]{7,15}$")


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
