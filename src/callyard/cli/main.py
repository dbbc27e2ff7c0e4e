"""The ``callyard`` command.

``callyard serve`` starts the twin (the banner tells the demo tenant and the application credentials); the
simulator commands ``scenario run|check``, ``call``, ``phone`` and ``calls`` are clients of a running server
(``callyard.cli.sim``).
"""
from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from pathlib import Path

from callyard import __version__
from callyard.config import Settings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="callyard", description="A self-hosted twin of the Mitel CloudLink platform.")
    parser.add_argument("--version", action="version", version=f"callyard {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="start the server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    storage = serve.add_mutually_exclusive_group()
    storage.add_argument("--data", type=Path, default=Path(".callyard"), help="directory of the SQLite database")
    storage.add_argument("--ephemeral", action="store_true", help="keep everything in memory")
    storage.add_argument("--database-url", help="e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/callyard")
    serve.add_argument("--tenant", type=Path, help="tenant fixture loaded on first start (default: the demo tenant)")
    serve.add_argument("--clock", choices=("real", "manual"), default="real")
    serve.add_argument("--open-control", action="store_true", help="/_callyard needs no token")
    serve.add_argument("--operator-token", default=os.environ.get("CALLYARD_OPERATOR_TOKEN") or None,
                       help="the control plane's operator credential (default: $CALLYARD_OPERATOR_TOKEN, else a "
                            "random one printed in the banner)")
    serve.add_argument("--strict-app-header", action="store_true", help="reject malformed or missing X-Mitel-App")
    serve.add_argument("--rate-limit", type=float, help="requests per second per token (429 beyond)")
    serve.add_argument("--rate-burst", type=int, default=20)
    serve.add_argument("--smtp", help="HOST:PORT to also send captured mail through")
    serve.add_argument("--smtp-listen", metavar="HOST:PORT", type=_host_port,
                       help="receive e-mail over SMTP (mail to an Email queue's address; off by default)")
    serve.add_argument("--smtp-max-bytes", type=int, default=Settings.smtp_max_bytes,
                       help="largest message the SMTP listener takes (552 beyond)")
    serve.add_argument("--seed", type=int, help="seed the id generator (reproducible ids)")
    serve.add_argument("--retry-after-format", choices=("seconds", "http-date"), default="seconds",
                       help="Retry-After as delta-seconds (default) or an HTTP-date")
    serve.add_argument("--log-level", default="info", type=str.lower,
                       choices=("critical", "error", "warning", "info", "debug"),
                       help="info (default) logs every call, agent and webhook delivery in one line each")
    serve.add_argument("--log-format", choices=("text", "json"), default="text",
                       help="json: one JSON object per line, the facts of each line as keys")
    serve.add_argument("--access-log", action="store_true",
                       help="uvicorn's access log, one line per HTTP request (off by default: the event log and "
                            "GET /_callyard/journal say what happened, at a fraction of the cost)")
    serve.add_argument("--quiet", action="store_true", help="no access log, even with --access-log")
    limits = serve.add_argument_group("input limits and quotas (docs/compatibility.md, Limits)")
    limits.add_argument("--max-body-bytes", type=int, default=Settings.max_body_bytes,
                        help="largest request body (413 beyond)")
    limits.add_argument("--max-json-bytes", type=int, default=Settings.max_json_bytes,
                        help="largest JSON request body (413 beyond)")
    limits.add_argument("--max-snapshot-bytes", type=int, default=Settings.max_snapshot_bytes,
                        help="largest POST /_callyard/state body")
    limits.add_argument("--header-timeout", type=float, default=Settings.header_timeout, metavar="SECONDS",
                        help="seconds a request's line and headers may take (408 beyond)")
    limits.add_argument("--max-connections", type=int, default=Settings.max_connections,
                        help="open connections at most (503 TooManyConnections beyond)")
    limits.add_argument("--webhook-allow", action="append", default=[], metavar="CIDR", type=_cidr,
                        help="allow webhook targets in this range despite the refusals (repeatable)")
    limits.add_argument("--webhook-refuse", action="append", default=[], metavar="CIDR", type=_cidr,
                        help="refuse webhook targets in this range too, e.g. 127.0.0.0/8 (repeatable)")
    for kind in ("subscriptions", "connections", "conversations"):
        limits.add_argument(f"--quota-{kind}", type=int, default=getattr(Settings, f"quota_{kind}"),
                            help=f"{kind} per account (409 QuotaExceeded beyond; 0: no quota)")
    from callyard.cli.sim import add_commands

    add_commands(sub)
    return parser.parse_args(argv)


def _cidr(value: str) -> str:
    import ipaddress

    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an address range such as 10.0.0.0/8") from None


def _host_port(value: str) -> str:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{value!r} is not HOST:PORT, e.g. 127.0.0.1:2525")
    return value


def settings_from(args: argparse.Namespace) -> Settings:
    settings = Settings(host=args.host, port=args.port, data_dir=args.data, ephemeral=args.ephemeral,
                    database_url=args.database_url, tenant_file=args.tenant, clock=args.clock,
                    open_control=args.open_control, operator_token=args.operator_token,
                    strict_app_header=args.strict_app_header,
                    rate_limit=args.rate_limit, rate_burst=args.rate_burst, smtp=args.smtp, id_seed=args.seed,
                    retry_after_format=args.retry_after_format)
    for name in ("max_body_bytes", "max_json_bytes", "max_snapshot_bytes", "quota_subscriptions", "quota_connections",
                 "quota_conversations", "header_timeout", "max_connections"):
        setattr(settings, name, getattr(args, name))
    settings.webhook_allow, settings.webhook_refuse = tuple(args.webhook_allow), tuple(args.webhook_refuse)
    settings.smtp_listen, settings.smtp_max_bytes = args.smtp_listen, args.smtp_max_bytes
    return settings


def banner(settings: Settings, core: object) -> str:
    from callyard.api.cloudlink.edge import BASE_PATH, SERVICES
    from callyard.core.service import Core

    assert isinstance(core, Core)
    base = f"http://{settings.host}:{settings.port}"
    lines = [f"callyard {__version__} ready on {base}  (store: {core.rt.store.description}, clock: {settings.clock})",
             f"  CloudLink: root {BASE_PATH}/…, prefixes /{'|/'.join(sorted(SERVICES))}"
             f"{BASE_PATH}/…, or Host *.api.mitel.io",
             f"  UC User API: {base}/api/… (API tickets: POST /api/tickets/{{domain}}/{{user}}; docs {base}/api/docs)",
             f"  API docs: {base}/docs    control plane: {base}/_callyard/health",
             *([f"  SMTP: mail to an Email queue's address at {settings.smtp_listen}"] if settings.smtp_listen else []),
             "  operator: open control (no token needed on /_callyard)" if settings.open_control else
             f"  operator token (Authorization: Bearer … on /_callyard): {settings.operator_token}", "  tenant:"]
    password = core.tenant.get("password")
    accounts = sorted(core.rt.state.all("account"), key=lambda a: (a.get("parentAccountId") is not None, a["name"]))
    for account in accounts:
        lines.append(f"    {account['name']} ({account['type'].lower()}, accountId {account['accountId']})")
        for user in sorted(core.rt.state.all("user"), key=lambda u: u["email"]):
            if user["accountId"] == account["accountId"]:
                ext = f" ext {user['extension']}" if user.get("extension") else ""
                lines.append(f"      {user['role']:<14} {user['email']}{ext}")
    if password:
        lines.append(f"    every password: {password}")
    for app in core.tenant_applications():
        lines.append(f"  application: {app['name']}  client_id={app['applicationId']}  "
                     f"client_secret={app.get('clientSecret', '(not in fixture)')}")
    return "\n".join(lines)


def configure_logging(level: str, fmt: str = "text") -> None:
    """The root logger: text lines or JSON objects (python-json-logger) on standard error. uvicorn's loggers
    propagate to it, so the server's own lines come out in the same format."""
    handler = logging.StreamHandler()
    if fmt == "json":
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                           rename_fields={"asctime": "time", "levelname": "level",
                                                          "name": "logger"}))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def serve(settings: Settings, log_level: str = "info", access_log: bool = False) -> None:
    # No cycle collection while the modules, routes and tenant load: everything built now lives as long as
    # the process, and full collections over a growing heap cost about a second of start-up. The app's
    # lifespan collects once, freezes what is loaded and turns the collector back on (callyard.app).
    gc.disable()
    import uvicorn

    from callyard.app import build_app
    from callyard.server import uvicorn_config

    app = build_app(settings)

    class Server(uvicorn.Server):
        async def startup(self, sockets: list | None = None) -> None:  # type: ignore[override]
            await super().startup(sockets)
            if self.started:
                print(banner(settings, app.state.core), flush=True)

    config = uvicorn_config(app, settings, log_level=log_level, log_config=None, access_log=access_log)
    Server(config).run()


def access_log(args: argparse.Namespace) -> bool:
    """The access log is on only when asked for (``--access-log``) and not silenced (``--quiet``)."""
    return bool(args.access_log and not args.quiet)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.command == "serve":
        configure_logging(args.log_level, args.log_format)
        serve(settings_from(args), args.log_level, access_log=access_log(args))
        return 0
    logging.basicConfig(level="WARNING", format="%(asctime)s %(levelname)s %(name)s %(message)s")
    from callyard.cli.sim import run_command

    try:
        return run_command(args)
    except BrokenPipeError:
        # the reader took what it wanted and left (`callyard chat start … | head -1`): not an error of ours.
        # Point stdout at /dev/null so the interpreter's final flush does not fail again (the Python docs' recipe).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
