"""What the configuration and diagnostics route modules share: the contact center's administration services
(``core/contact_center/administration.py``), binary answers (WAV audio) and JSON strings."""
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response
from starlette.requests import HTTPConnection

from callyard.api.cx.hubs import SERVICE, HubsOfTwin
from callyard.core.contact_center.administration import Administration
from callyard.core.contact_center.personal_templates import DiskFiles, Files, MemoryFiles
from callyard.core.contact_center.platform import MailSettings

if TYPE_CHECKING:
    from callyard.container import Twin


async def _administration(connection: HTTPConnection) -> Administration:
    return connection.app.state.twin.core.contact_center.administration  # type: ignore[no-any-return]


AdminDep = Annotated[Administration, Depends(_administration)]
AUDIO: dict[int | str, dict[str, Any]] = {
    200: {"description": "The audio (8 kHz 16-bit mono PCM WAV)", "content": {"audio/wav": {}}}}


def audio(request: Request, content_type: str, data: bytes, name: str, *, inline: bool) -> Response:
    """A WAV answer, whole or the one byte range asked for (players seek with ``Range: bytes=a-b``)."""
    disposition = f'{"inline" if inline else "attachment"}; filename="{name}.wav"'
    headers = {"content-disposition": disposition, "accept-ranges": "bytes"}
    wanted = request.headers.get("range", "")
    if inline and wanted.startswith("bytes=") and "," not in wanted:
        first, _, last = wanted[6:].partition("-")
        size = len(data)
        try:
            if first:
                start, end = int(first), int(last) if last else size - 1
            else:
                start, end = max(size - int(last), 0), size - 1
        except ValueError:
            start, end = -1, -1
        if 0 <= start <= end and start < size:
            end = min(end, size - 1)
            return Response(data[start:end + 1], 206, media_type=content_type,
                            headers={**headers, "content-range": f"bytes {start}-{end}/{size}"})
        return Response(b"", 416, headers={"content-range": f"bytes */{size}"})
    return Response(data, media_type=content_type, headers=headers)


# ---------------------------------------------------------------------- wiring (the family's projections hook)
class HubsLiveState:
    """What the CX hubs know, for diagnostics: the live SignalR connections and the monitors (groups) each
    has joined (``employeeHub.addSelfMonitor`` → ``employee:{id}``; ``agentHub.addStateMonitor`` →
    ``agent:{id}``)."""

    def __init__(self, twin: "Twin", hubs: HubsOfTwin | None) -> None:
        self.twin = twin
        self.hubs = hubs

    def _live(self, account_id: str) -> list[Any]:
        if self.hubs is None:
            return []
        return [c for c in self.hubs.server.connections() if c.principal.principal.account_id == account_id]

    def subscribers(self, account_id: str, monitor: str, employee: dict[str, Any]) -> list[str]:
        wanted = {f"employeehub.employee:{employee['id']}"}
        if monitor == "agentState":
            wanted |= {f"agenthub.agent:{a['id']}" for a in employee["agents"].values()}
        return [c.connection_id for c in self._live(account_id) if wanted & c.groups]

    def connections_of(self, account_id: str, principal_id: str) -> list[str]:
        return [c.connection_id for c in self._live(account_id) if c.principal.principal.principal_id == principal_id]

    def services(self) -> dict[str, Any]:
        settings = self.twin.settings
        live = self.hubs.server.connections() if self.hubs is not None else []
        return {
            "signalr": {"path": "/miccsdk/signalr", "hubs": "employeeHub agentHub queueHub", "connections": len(live),
                        "monitors": sum(len(c.groups) for c in live)},
            "store": {"kind": "memory" if settings.ephemeral else "database", "documents": sum(
                len(docs) for docs in self.twin.core.rt.state.docs.values())},
            "clock": {"mode": settings.clock},
            "mail": {"relay": settings.smtp or "none (outbox only)"},
        }


def register(twin: "Twin") -> None:
    """Where personal reply templates are kept, the mail settings, and the live state diagnostics report."""
    settings = twin.settings
    files: Files = MemoryFiles() if settings.ephemeral else DiskFiles(settings.data_dir / "replytemplates")
    admin = twin.core.contact_center.administration
    admin.attach(files, MailSettings(relay=settings.smtp, listener=getattr(settings, "smtp_listen", None)))
    hubs = twin.family_state.get(SERVICE)
    admin.diagnostics.attach(HubsLiveState(twin, hubs if isinstance(hubs, HubsOfTwin) else None))
