"""``callyard audit``: the best-practice report of a running server, as tables (or ``--json``).

Exits 1 when a shown application has a finding at or above ``--fail-on`` (default ``error``), so a CI job
can run its integration tests against the twin and then fail on the audit; exits 2 when ``--session`` names
a session the twin never saw (a typo must not read as a clean report).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from callyard.sim.client import ApiError, SimClient

SEVERITY = {"warning": 1, "error": 2}


def add_command(sub: Any, conn: argparse.ArgumentParser) -> None:
    audit = sub.add_parser("audit", parents=[conn], help="best-practice findings per client application")
    audit.add_argument("--session", help="only the application with this X-Mitel-App session-id")
    audit.add_argument("--app", help="only applications with this X-Mitel-App app name")
    audit.add_argument("--all", action="store_true", help="also list applications without findings")
    audit.add_argument("--json", action="store_true", help="print the report as JSON")
    audit.add_argument("--fail-on", choices=("error", "warning", "never"), default="error",
                       help="exit 1 when a finding is at least this severe (default: error)")


def run(args: argparse.Namespace, console: Any) -> int:
    params = {k: v for k, v in (("session", args.session), ("app", args.app)) if v}
    if not args.all:
        params["findingsOnly"] = "true"

    async def fetch() -> dict[str, Any]:
        async with SimClient(args.server, token=args.token, user=None if args.token else args.user,
                             password=args.password) as client:
            return await client.request("GET", "/_callyard/audit", params=params, count=False)

    try:
        report = asyncio.run(fetch())
    except ApiError as exc:
        if exc.status == 404 and exc.name == "SessionNotFound":
            print(f"callyard audit: {exc.message}", file=sys.stderr)
            return 2   # not "no findings": nothing was checked
        raise
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        render(report, console)
    threshold = SEVERITY.get(args.fail_on)
    worst = max((SEVERITY[f["severity"]] for a in report["applications"] for f in a["findings"]), default=0)
    return 1 if threshold is not None and worst >= threshold else 0


def render(report: dict[str, Any], console: Any) -> None:
    from rich.panel import Panel
    from rich.table import Table

    if not report["applications"]:
        console.print("[green]No findings.[/green] Every application observed follows the rules checked.")
        return
    for app in report["applications"]:
        info = app["app"]
        title = f"{info['label']}  [dim]({info['kind']}, {info['requests']} requests, " \
                f"{info['firstSeen']} → {info['lastSeen']})[/dim]"
        if app["clean"]:
            console.print(Panel("[green]clean[/green]", title=title, title_align="left"))
            continue
        table = Table(show_lines=True, expand=True)
        table.add_column("rule", style="bold", no_wrap=True)
        table.add_column("where / evidence")
        table.add_column("fix")
        for finding in app["findings"]:
            style = "red" if finding["severity"] == "error" else "yellow"
            evidence = "\n".join(
                f"{e.get('at', '')} {e.get('method', '')} {e.get('path', '')} → {e.get('status', '')} "
                f"[dim]{e.get('correlationId', '')}[/dim] {e.get('note', '')}".strip()
                for e in finding["evidence"])
            table.add_row(f"[{style}]{finding['rule']}[/{style}]\n{finding['title']}\n"
                          f"[dim]×{finding['occurrences']}, seed {finding['seed']}[/dim]",
                          f"{finding['target']}\n{evidence}\n[italic dim]“{finding['quote']}”[/italic dim]",
                          finding["fix"])
        console.print(Panel(table, title=title, title_align="left"))
