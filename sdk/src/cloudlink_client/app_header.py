"""The ``X-Mitel-App`` header (seed 001):

``<app>-<flavor>/<appVersion>;platform=<os>/<osVersion>;session-id=<guid>``, entirely lower case, where
``os`` is exactly one of windows, linux, mac, ios, android and the session id is a 128-bit GUID generated
once for the running instance of the application (this process) and never changed.
"""
from __future__ import annotations

import platform
import re
import uuid
from dataclasses import dataclass

OS_VALUES = ("windows", "linux", "mac", "ios", "android")

# platform.system() → the seed's os value. Anything else is refused unless the application names its os.
_SYSTEMS = {"linux": "linux", "darwin": "mac", "windows": "windows", "android": "android", "ios": "ios",
            "ipados": "ios"}

#: The session id of this process: generated once, at import, and the same for every client in it.
SESSION_ID: str = str(uuid.uuid4())

_FORBIDDEN = re.compile(r"[;/\s=]")


def detect_os() -> tuple[str, str]:
    """The running operating system as (os, osVersion) in the seed's vocabulary; ValueError if it is not
    one of windows, linux, mac, ios, android."""
    system = platform.system()
    os_name = _SYSTEMS.get(system.lower())
    if os_name is None:
        raise ValueError(f"the operating system {system!r} is not one X-Mitel-App allows "
                         f"({', '.join(OS_VALUES)}); pass os_name= and os_version= explicitly")
    if os_name == "mac":
        version = platform.mac_ver()[0] or platform.release()
    elif os_name == "windows":
        version = platform.version() or platform.release()
    else:
        version = platform.release()
    return os_name, version


@dataclass(frozen=True)
class AppHeader:
    """The parts of the header; ``value`` is the header itself."""

    app: str
    flavor: str
    app_version: str
    os_name: str
    os_version: str
    session_id: str = SESSION_ID

    @property
    def value(self) -> str:
        return (f"{self.app}-{self.flavor}/{self.app_version};platform={self.os_name}/{self.os_version};"
                f"session-id={self.session_id}").lower()


def build(app: str, flavor: str, app_version: str, os_name: str | None = None,
          os_version: str | None = None) -> AppHeader:
    """Check the application's parts and complete them with the platform. Raises ValueError naming what is
    wrong, so a misconfigured application fails at start rather than on the platform."""
    for label, part in (("app", app), ("flavor", flavor), ("app_version", app_version)):
        if not isinstance(part, str) or not part.strip():
            raise ValueError(f"{label} is required for the X-Mitel-App header")
        if _FORBIDDEN.search(part):
            raise ValueError(f"{label} {part!r} may not contain ';', '/', '=' or white space")
    if "-" in flavor:
        raise ValueError(f"flavor {flavor!r} may not contain '-' (the header's name part is <app>-<flavor>)")
    if os_name is None:
        detected, detected_version = detect_os()
        os_name, os_version = detected, os_version or detected_version
    else:
        os_name = os_name.lower()
        if os_name not in OS_VALUES:
            raise ValueError(f"os_name must be one of {', '.join(OS_VALUES)} (no abbreviations), got {os_name!r}")
        if os_version is None:
            raise ValueError("os_version is required when os_name is given")
    os_version = (os_version or "").strip()
    if not os_version:
        raise ValueError("the operating system version could not be determined; pass os_version=")
    if _FORBIDDEN.search(os_version):
        raise ValueError(f"os_version {os_version!r} may not contain ';', '/', '=' or white space")
    return AppHeader(app.strip().lower(), flavor.strip().lower(), app_version.strip().lower(), os_name,
                     os_version.lower())
