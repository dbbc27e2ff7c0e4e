"""The ``X-Mitel-App`` header of seed 001:
``<app>-<flavor>/<appVersion>;platform=<os>/<osVersion>;session-id=<128-bit GUID>``, all lower case, os one
of windows, linux, mac, ios, android. Parsed into its parts with every problem named, so the journal (and
the best-practice audit) can report exactly what is wrong."""
from __future__ import annotations

import platform
import re
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

OS_VALUES = ("windows", "linux", "mac", "ios", "android")
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass
class MitelApp:
    raw: str
    app_name: str | None = None
    flavor: str | None = None
    app_version: str | None = None
    os: str | None = None
    os_version: str | None = None
    session_id: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "valid": self.valid}


def parse(raw: str | None) -> MitelApp | None:
    if raw is None:
        return None
    app = MitelApp(raw=raw)
    if raw != raw.lower():
        app.problems.append("the header must be entirely lower case")
    value = raw.strip().lower()
    parts = [p.strip() for p in value.split(";") if p.strip()]
    if not parts:
        app.problems.append("the header is empty")
        return app
    head = [p for p in parts[0].split("/") if p != ""]
    if len(head) < 2:
        app.problems.append("the first part must be <app>-<flavor>/<appVersion>")
    else:
        name = head[0]
        if "-" not in name:
            app.problems.append("appName must follow the pattern app-flavor (e.g. meetings-desktop)")
            app.app_name = name
        else:
            app.app_name, app.flavor = name.rsplit("-", 1)
        app.app_version = head[1]
    attributes = {}
    for part in parts[1:]:
        key, _, val = part.partition("=")
        attributes[key.strip()] = val.strip()
    platform = attributes.get("platform")
    if platform is None:
        app.problems.append("platform=<os>/<osVersion> is missing")
    else:
        os_name, _, os_version = platform.partition("/")
        app.os, app.os_version = os_name, os_version or None
        if os_name not in OS_VALUES:
            app.problems.append(f"platform os must be one of {', '.join(OS_VALUES)} (got {os_name!r})")
        if not os_version:
            app.problems.append("platform must carry the exact osVersion after the os")
    session = attributes.get("session-id", attributes.get("session"))
    if session is None:
        app.problems.append("session-id=<guid> is missing")
    else:
        app.session_id = session
        if not _GUID.match(session):
            app.problems.append("session-id must be a generated 128-bit GUID (8-4-4-4-12 hex)")
    return app


# One session per running process (seed 001: "immutable for the lifetime of that instance").
PROCESS_SESSION = str(uuid.uuid4())
_OS_OF_SYSTEM = {"linux": "linux", "darwin": "mac", "windows": "windows"}


def header_for(app: str, flavor: str, version: str) -> str:
    """The header the twin's own tools (CLI, scenario runner) send, built as seed 001 asks."""
    os_name = _OS_OF_SYSTEM.get(platform.system().lower(), "linux")
    os_version = (platform.release() or "0").lower()
    return f"{app}-{flavor}/{version};platform={os_name}/{os_version};session-id={PROCESS_SESSION}".lower()
