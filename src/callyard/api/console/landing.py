"""The console's home at ``/`` (no script): each family's docs, the control plane and the demo tenant, beside
the console's screens.

The demo tenant is shown from its fixture (what the README documents too), only when the twin runs the
built-in demo tenant: a tenant of your own (``--tenant FILE``) is not listed to anyone who opens the page."""
from __future__ import annotations

from html import escape
from typing import Any

from callyard import __version__

def _families(twin: Any) -> str:
    rows = []
    for family in twin.families.all:
        if family.name in ("pages", "console"):
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


CONTROL_LINKS = (("/_callyard/health", "health (no token)"), ("/_callyard/journal", "request journal"),
                 ("/_callyard/events", "event log"), ("/_callyard/sim/calls", "live calls"),
                 ("/_callyard/audit", "best-practice audit"), ("/_callyard/faults", "injected faults"))


def home(twin: Any, base: str) -> dict[str, Any]:
    """What the home page shows of the twin (the HTML parts escaped here)."""
    return {"version": __version__, "origin": base, "families_html": _families(twin),
            "tenant_html": _tenant(twin, base), "control_links": CONTROL_LINKS}
