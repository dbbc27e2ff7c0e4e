"""What a run sums up to (``Summary``: counts, latency, queues; ``to_dict`` for ``--json``), and printing it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
