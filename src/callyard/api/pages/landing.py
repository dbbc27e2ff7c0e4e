"""The landing page at ``/``: a small server-rendered HTML page (no script) listing each family's docs, the
control plane and the demo tenant. A later web console grows from here.

The demo tenant is shown from its fixture (what the README documents too), only when the twin runs the
built-in demo tenant: a tenant of your own (``--tenant FILE``) is not listed to anyone who opens the page."""
from __future__ import annotations

from html import escape
from typing import Any

from callyard import __version__

STYLE = """body{font:15px/1.5 system-ui,sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;color:#1d2430}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d8dde6}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3rem .6rem .3rem 0;vertical-align:top}
code,pre{font:13px ui-monospace,monospace;background:#f3f5f8;padding:.1rem .3rem;border-radius:3px}
pre{padding:.6rem;overflow-x:auto}.muted{color:#5b6675}"""


def _families(twin: Any) -> str:
    rows = []
    for family in twin.families.all:
        if family.name == "pages":
            continue
        name = escape(family.name)
        where = ", ".join(f"<code>{escape(p)}</code>" for p in family.prefixes if p != "/") or "<code>/</code>"
        rows.append(f"<tr><td><b>{escape(family.title or family.name)}</b><br><span class=muted>{where}</span></td>"
                    f"<td>{escape(family.description)}</td>"
                    f'<td><a href="/docs/{name}">docs</a> · '
                    f'<a href="{escape(family.document or f"/openapi/{name}.json")}">OpenAPI</a></td></tr>')
    return "<table><tr><th>API</th><th></th><th></th></tr>" + "".join(rows) + "</table>"


def _accounts(accounts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every account of the fixture, partners before their customers."""
    out = []
    for account in accounts:
        out.append(account)
        out.extend(_accounts(account.get("customers", [])))
    return out


def _user(user: dict[str, Any]) -> str:
    ext = f" ext {escape(str(user['extension']))}" if user.get("extension") else ""
    return f"<code>{escape(user['email'])}</code>{ext} <span class=muted>{escape(user.get('role', 'USER'))}</span>"


def _tenant(twin: Any, base: str) -> str:
    if twin.settings.tenant_file is not None:
        return (f"<p>This twin runs the tenant of <code>{escape(str(twin.settings.tenant_file.name))}</code>; "
                "sign in with its users (<code>POST /2017-09-01/token</code>).</p>")
    tenant = twin.core.tenant
    password = tenant.get("password", "")
    rows, apps = [], []
    for account in _accounts(tenant.get("accounts", [])):
        users = ", ".join(_user(u) for u in account.get("users", []))
        rows.append(f"<tr><td><b>{escape(account['name'])}</b><br><span class=muted>{escape(account['accountId'])}"
                    f"</span></td><td>{users}</td></tr>")
        for app in account.get("applications", []):
            apps.append(f"<li>{escape(app['name'])}: client_id <code>{escape(app['applicationId'])}</code>, "
                        f"client_secret <code>{escape(app.get('clientSecret', ''))}</code></li>")
    token = (f"curl -s -X POST {base}/2017-09-01/token \\\n  -d grant_type=password "
             f"-d username=admin@acme.example -d password={password}")
    return ("<p>The demo tenant (<code>src/callyard/fixtures/demo-tenant.json</code>); every password is "
            f"<code>{escape(password)}</code>.</p><table>" + "".join(rows) + "</table>"
            + (f"<ul>{''.join(apps)}</ul>" if apps else "")
            + f"<p>A token for the account admin:</p><pre>{escape(token)}</pre>")


def landing_page(twin: Any, base: str) -> str:
    control = [("/_callyard/health", "health (no token)"), ("/_callyard/journal", "request journal"),
               ("/_callyard/events", "event log"), ("/_callyard/sim/calls", "live calls"),
               ("/_callyard/audit", "best-practice audit"), ("/_callyard/faults", "injected faults")]
    links = "".join(f'<li><a href="{href}"><code>{href}</code></a> {escape(what)}</li>' for href, what in control)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>callyard</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head>
<body>
<h1>callyard <span class=muted>{escape(__version__)}</span></h1>
<p>A self-hosted twin of Mitel's communications platforms on one simulated PBX and contact center, at
<code>{escape(base)}</code>. <a href="/docs">Every API in one Swagger UI</a> · <a href="/redoc">ReDoc</a> ·
<a href="/openapi.json">openapi.json</a></p>
<h2>APIs</h2>
{_families(twin)}
<h2>Control plane</h2>
<p>Under <code>/_callyard</code> (an ACCOUNT_ADMIN token, or <code>--open-control</code>): the simulator, reset,
snapshots, the clock, faults and the audit. <a href="/docs/control">Its docs</a>.</p>
<ul>{links}</ul>
<h2>Demo tenant</h2>
{_tenant(twin, base)}
</body></html>
"""
