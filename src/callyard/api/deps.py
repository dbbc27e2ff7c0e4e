"""Typed dependencies: the parts of the ``Twin`` a handler needs, as ``Annotated[Type, Depends(...)]``.

Each is an ``async def`` returning an attribute of the one ``Twin`` on ``app.state.twin``: no per-request
work, and no thread-pool hop (a plain ``def`` dependency would run in the thread pool)."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from callyard.audit.service import Auditor
from callyard.config import Settings
from callyard.container import Twin
from callyard.core.directory.applications import Applications
from callyard.core.engine.history import CallHistory
from callyard.core.engine.recordings import Recordings
from callyard.core.contact_center import ContactCenter
from callyard.core.engine.service import Engine
from callyard.core.meetings.service import Meetings
from callyard.core.messaging.service import Messaging
from callyard.core.notifications.connections import Connections
from callyard.core.notifications.service import Notifications
from callyard.core.presence.service import Presence
from callyard.core.service import Core
from callyard.delivery.mail import Mailer
from callyard.events.outbox import Outbox
from callyard.faults.service import Faults
from callyard.api.common.middleware import Journal


def twin_of(connection: HTTPConnection) -> Twin:
    """The twin serving this request, for code that holds a request rather than declaring a dependency."""
    twin: Twin = connection.app.state.twin
    return twin


async def twin(connection: HTTPConnection) -> Twin:
    return connection.app.state.twin  # type: ignore[no-any-return]


async def core(connection: HTTPConnection) -> Core:
    return connection.app.state.twin.core  # type: ignore[no-any-return]


async def engine(connection: HTTPConnection) -> Engine:
    return connection.app.state.twin.core.engine  # type: ignore[no-any-return]


async def contact_center(connection: HTTPConnection) -> ContactCenter:
    return connection.app.state.twin.core.contact_center  # type: ignore[no-any-return]


async def history(connection: HTTPConnection) -> CallHistory:
    return connection.app.state.twin.core.history  # type: ignore[no-any-return]


async def recordings(connection: HTTPConnection) -> Recordings:
    return connection.app.state.twin.core.recordings  # type: ignore[no-any-return]


async def meetings(connection: HTTPConnection) -> Meetings:
    return connection.app.state.twin.core.meetings  # type: ignore[no-any-return]


async def messaging(connection: HTTPConnection) -> Messaging:
    return connection.app.state.twin.core.messaging  # type: ignore[no-any-return]


async def notifications(connection: HTTPConnection) -> Notifications:
    return connection.app.state.twin.core.notifications  # type: ignore[no-any-return]


async def outbox(connection: HTTPConnection) -> Outbox:
    return connection.app.state.twin.core.outbox  # type: ignore[no-any-return]


async def connections(connection: HTTPConnection) -> Connections:
    return connection.app.state.twin.core.connections  # type: ignore[no-any-return]


async def presence(connection: HTTPConnection) -> Presence:
    return connection.app.state.twin.core.presence  # type: ignore[no-any-return]


async def applications(connection: HTTPConnection) -> Applications:
    return connection.app.state.twin.core.applications  # type: ignore[no-any-return]


async def mailer(connection: HTTPConnection) -> Mailer:
    return connection.app.state.twin.mailer  # type: ignore[no-any-return]


async def faults(connection: HTTPConnection) -> Faults:
    return connection.app.state.twin.faults  # type: ignore[no-any-return]


async def audit(connection: HTTPConnection) -> Auditor:
    return connection.app.state.twin.audit  # type: ignore[no-any-return]


async def journal(connection: HTTPConnection) -> Journal:
    return connection.app.state.twin.journal  # type: ignore[no-any-return]


async def settings(connection: HTTPConnection) -> Settings:
    return connection.app.state.twin.settings  # type: ignore[no-any-return]


TwinDep = Annotated[Twin, Depends(twin)]
CoreDep = Annotated[Core, Depends(core)]
EngineDep = Annotated[Engine, Depends(engine)]
ContactCenterDep = Annotated[ContactCenter, Depends(contact_center)]
HistoryDep = Annotated[CallHistory, Depends(history)]
RecordingsDep = Annotated[Recordings, Depends(recordings)]
MeetingsDep = Annotated[Meetings, Depends(meetings)]
MessagingDep = Annotated[Messaging, Depends(messaging)]
NotificationsDep = Annotated[Notifications, Depends(notifications)]
OutboxDep = Annotated[Outbox, Depends(outbox)]
ConnectionsDep = Annotated[Connections, Depends(connections)]
PresenceDep = Annotated[Presence, Depends(presence)]
ApplicationsDep = Annotated[Applications, Depends(applications)]
MailerDep = Annotated[Mailer, Depends(mailer)]
FaultsDep = Annotated[Faults, Depends(faults)]
AuditDep = Annotated[Auditor, Depends(audit)]
JournalDep = Annotated[Journal, Depends(journal)]
SettingsDep = Annotated[Settings, Depends(settings)]
