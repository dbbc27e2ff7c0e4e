"""Scenario runs started from the console: the same ``Runner`` as ``callyard scenario run``, in the server's
own event loop, driving the twin over its own HTTP interface (the simulator routes) exactly as the CLI does.

A run acts with the viewer's authority: the operator's token (``--virtual`` runs advance the clock, which is
the operator's alone), or the signed-in admin's access token (their account only; a wall-clock run). The
users a scenario names by e-mail are looked up in the core (the operator has no platform token to list them
with). One run at a time per account; the console shows its progress and, at the end, its summary."""
from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from callyard.core.errors import Conflict, Invalid, NotFound
from callyard.core.principal import SYSTEM
from callyard.sim.client import SimClient
from callyard.sim.scenario import Runner, RunnerError, ScenarioError, parse_scenario

if TYPE_CHECKING:
    from callyard.container import Twin

EXAMPLES = Path(__file__).resolve().parents[4] / "examples" / "scenarios"
MAX_YAML = 256 * 1024
KEPT_RUNS = 20


class _CoreUsers(SimClient):
    """The simulator client of a console run: it lists the account's users from the core."""

    def __init__(self, twin: "Twin", account_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.twin = twin
        self.account_id = account_id

    async def users(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in u.items() if k != "passwordHash"}
                for u in self.twin.core.directory.list_users(SYSTEM, self.account_id)]


@dataclass
class Run:
    run_id: int
    name: str
    account_id: str
    virtual: bool
    started_by: str
    runner: Runner | None = None
    task: "asyncio.Task[Any] | None" = None
    status: str = "starting"         # starting | running | finished | failed | stopped
    error: str = ""
    summary: dict[str, Any] = field(default_factory=dict)

    def view(self) -> dict[str, Any]:
        runner = self.runner
        counts = runner.counts() if runner is not None and self.status in ("running", "starting") else {}
        total = runner.total if runner is not None else 0.0
        now = runner.now if runner is not None else 0.0
        return {"runId": self.run_id, "name": self.name, "virtual": self.virtual, "status": self.status,
                "startedBy": self.started_by, "now": round(now, 1), "total": round(total, 1),
                "percent": round(100 * now / total) if total else 0, "counts": counts,
                "live": runner.live if runner is not None else 0, "error": self.error, "summary": self.summary}


class Scenarios:
    def __init__(self, twin: "Twin") -> None:
        self.twin = twin
        self.runs: list[Run] = []
        self._ids = 0

    @staticmethod
    def examples() -> list[str]:
        return sorted(p.name for p in EXAMPLES.glob("*.yaml")) if EXAMPLES.is_dir() else []

    @staticmethod
    def example(name: str) -> str:
        if name not in Scenarios.examples():
            raise NotFound("ScenarioNotFound", f"no example scenario {name}")
        return (EXAMPLES / name).read_text(encoding="utf-8")

    def of(self, accounts: set[str] | None) -> list[Run]:
        return [r for r in reversed(self.runs) if accounts is None or r.account_id in accounts]

    def _server(self) -> str:
        host = self.twin.settings.host
        host = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
        return f"http://{'[' + host + ']' if ':' in host else host}:{self.twin.settings.port}"

    async def start(self, text: str, account_id: str, *, operator: bool, token: str | None, who: str,
                    virtual: bool, seed: int | None) -> Run:
        if len(text.encode()) > MAX_YAML:
            raise Invalid("ScenarioTooLarge", "a scenario is at most 256 KiB of YAML")
        try:
            scenario = parse_scenario(text, "the scenario")
        except ScenarioError as exc:
            raise Invalid("InvalidScenario", "; ".join(exc.args[0] if exc.args and isinstance(exc.args[0], list)
                                                       else [str(exc)])) from None
        if virtual and not operator:
            raise Invalid("OperatorRequired", "a virtual-clock run advances the whole twin's clock: the operator's")
        if any(r.account_id == account_id and r.status in ("starting", "running") for r in self.runs):
            raise Conflict("ScenarioRunning", "a scenario is already running in this account: stop it first")
        credential = self.twin.settings.operator_token if operator else token
        self._ids += 1
        run = Run(self._ids, scenario.name, account_id, virtual, who)
        client = _CoreUsers(self.twin, account_id, server=self._server(), token=credential,
                            operator_token=self.twin.settings.operator_token if operator else None, account=account_id)
        run.runner = Runner(scenario, client, virtual=virtual, seed=seed, progress=False)
        run.task = asyncio.get_running_loop().create_task(self._run(run, client), name=f"console-scenario-{run.run_id}")
        self.runs = self.runs[-(KEPT_RUNS - 1):] + [run]
        return run

    async def _run(self, run: Run, client: SimClient) -> None:
        assert run.runner is not None
        try:
            async with client:
                run.status = "running"
                summary = await run.runner.run()
            run.summary = {k: v for k, v in dataclasses.asdict(summary).items()
                           if k in ("placed", "answered", "voicemail", "abandoned", "rejected", "unanswered",
                                    "live_at_end", "errors", "requests", "latency_p95_ms", "scenario_seconds",
                                    "wall_seconds", "seed")}
            run.status = "stopped" if summary.interrupted else "finished"
        except asyncio.CancelledError:
            run.status = "stopped"
        except (RunnerError, OSError) as exc:
            run.status, run.error = "failed", str(exc)
        except Exception as exc:  # noqa: BLE001 - a run's failure is shown, never raised into the server
            run.status, run.error = "failed", f"{exc.__class__.__name__}: {exc}"

    def stop(self, run_id: int, accounts: set[str] | None) -> Run:
        found = next((r for r in self.runs if r.run_id == run_id
                      and (accounts is None or r.account_id in accounts)), None)
        if found is None:
            raise NotFound("ScenarioRunNotFound", f"no scenario run {run_id}")
        if found.task is not None and not found.task.done():
            found.task.cancel()
        return found

    async def stop_all(self) -> None:
        for run in self.runs:
            if run.task is not None and not run.task.done():
                run.task.cancel()
        await asyncio.gather(*(r.task for r in self.runs if r.task is not None), return_exceptions=True)
