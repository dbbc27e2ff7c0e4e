"""The core facade every API family talks to: one object holding the directory, applications, auth and
the runtime. ``callyard.app`` builds exactly one of these per process."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from callyard.core.auth.service import Auth
from callyard.core.auth.tokens import TokenService
from callyard.core.clock import Clock
from callyard.core.contact_center import ContactCenter
from callyard.core.contact_center.authorization import AuthorizationServer
from callyard.core.directory.applications import Applications
from callyard.core.directory.domains import upgrade_accounts
from callyard.core.directory.service import Directory
from callyard.core.directory.tenant import build_state, read_tenant
from callyard.core.engine.recordings import Recordings
from callyard.core.engine.history import CallHistory
from callyard.core.engine.service import Engine
from callyard.core.errors import Invalid
from callyard.core.ids import Ids
from callyard.core.notifications.connections import Connections
from callyard.core.notifications.service import Notifications
from callyard.core.meetings.service import Meetings
from callyard.core.messaging.service import Messaging
from callyard.core.presence.service import Presence
from callyard.core.runtime import Runtime
from callyard.core.scheduler import Scheduler
from callyard.events.event import TWIN_RESET, Event
from callyard.events.outbox import Outbox
from callyard.events.projections import Projections
from callyard.core.ports import Store

SNAPSHOT_FORMAT = "callyard-state"
SNAPSHOT_VERSION = 1


class Core:
    def __init__(self, store: Store, clock: Clock, ids: Ids, tenant_file: Path | None = None,
                 refresh_claims: Mapping[str, Any] | None = None) -> None:
        # The event path: every projection registers here (events/projections.py).
        self.projections = Projections()
        self.rt = Runtime(store, clock, ids, self.projections)
        self.tenant_file = tenant_file
        self.tenant = read_tenant(tenant_file)
        self.tokens = TokenService(self.rt)
        self.directory = Directory(self.rt)
        self.applications = Applications(self.rt, self.directory.access)
        self.auth = Auth(self.rt, self.tokens, self.directory.access, self.applications, refresh_claims)
        self.recordings = Recordings(self.rt)
        self.meetings = Meetings(self.rt, self.directory.access, self.recordings)
        self.scheduler = Scheduler(clock)
        self.engine = Engine(self.rt, self.directory.access, self.recordings, self.scheduler)
        self.contact_center = ContactCenter(self.engine)
        self.cc_authorization = AuthorizationServer(self.rt, self.tokens)
        self.history = CallHistory(self.rt)
        self.presence = Presence(self.rt, self.directory.access, self.engine)
        self.messaging = Messaging(self.rt, self.directory.access)
        self.outbox = Outbox(self.rt)
        self.connections = Connections(self.rt, self.directory.access)
        self.notifications = Notifications(self.rt, self.directory.access, self.outbox, self.connections)
        # The retention sweep runs on the scheduler, which a reset clears: it is armed again after each one.
        self.notifications.keep_tidy(self.scheduler)
        self.projections.after_commit("retention sweep re-armed after a reset",
                                      lambda _event: self.notifications.keep_tidy(self.scheduler), events=(TWIN_RESET,))

    async def start(self) -> bool:
        """Open the store, load the persisted state or, on first start, the tenant baseline. Returns whether
        the tenant was freshly loaded."""
        await self.rt.store.open()
        await self.tokens.load_or_create_key()
        self.scheduler.start()
        if await self.rt.store.load(self.rt.state):
            self.presence.reset()  # the aggregate view of the persisted state, before the first change
            return False
        await self.reset()
        return True

    async def stop(self) -> None:
        await self.scheduler.stop()
        await self.rt.store.close()

    async def reset(self) -> None:
        """Back to the tenant baseline: every account, user, group, application and mail as the fixture says."""
        await self._replace_state(build_state(self.rt, self.tenant), self.tenant_name())

    async def _replace_state(self, state: Any, origin: str) -> None:
        """Make ``state`` the whole twin, durable first (reset and snapshot import)."""
        async with self.rt.write_lock:
            await self.rt.store.replace_all(state, {"tenant": origin, **await self._kept_meta()})
            self.rt.state.docs = state.docs
            self.rt.state.blobs = state.blobs
            self.engine.reset()
            self.contact_center.reset()
        await self.projections.publish([Event(TWIN_RESET, None, "/", None, self.rt.now_iso())])

    def tenant_applications(self) -> list[dict[str, Any]]:
        """The applications the tenant file registers (with their fixture secrets, for the banner)."""
        found: list[dict[str, Any]] = []
        pending = list(self.tenant.get("accounts", []))
        while pending:
            account = pending.pop(0)
            found.extend(account.get("applications", []))
            pending.extend(account.get("customers", []))
        return found

    def tenant_name(self) -> str:
        return str(self.tenant_file or "demo")

    async def _kept_meta(self) -> dict[str, str]:
        key = await self.rt.store.get_meta("signing_key")
        return {"signing_key": key} if key else {}

    def export_state(self) -> dict[str, Any]:
        import base64

        return {
            "format": SNAPSHOT_FORMAT, "version": SNAPSHOT_VERSION, "exportedAt": self.rt.now_iso(),
            "documents": {kind: sorted(docs.values(), key=lambda d: json.dumps(d, sort_keys=True))
                          for kind, docs in sorted(self.rt.state.docs.items()) if docs},
            "blobs": {blob_id: {"contentType": ct, "data": base64.b64encode(data).decode()}
                      for blob_id, (ct, data) in sorted(self.rt.state.blobs.items())},
        }

    async def import_state(self, snapshot: Any) -> dict[str, int]:
        import base64
        import binascii

        from callyard.core.state import State

        if not isinstance(snapshot, dict) or snapshot.get("format") != SNAPSHOT_FORMAT:
            raise Invalid("InvalidSnapshot", f"a snapshot has format {SNAPSHOT_FORMAT}")
        if snapshot.get("version") != SNAPSHOT_VERSION:
            raise Invalid("InvalidSnapshot", f"unsupported snapshot version {snapshot.get('version')!r}; "
                                             f"this server reads version {SNAPSHOT_VERSION}")
        documents, blobs = snapshot.get("documents"), snapshot.get("blobs", {})
        if not isinstance(documents, dict) or not isinstance(blobs, dict):
            raise Invalid("InvalidSnapshot", "documents and blobs must be objects")
        state = State()
        for kind, docs in documents.items():
            id_field = _ID_FIELDS.get(kind)
            if id_field is None or not isinstance(docs, list):
                raise Invalid("InvalidSnapshot", f"unknown document kind {kind!r}")
            for doc in docs:
                if not isinstance(doc, dict) or not isinstance(doc.get(id_field), str):
                    raise Invalid("InvalidSnapshot", f"every {kind} document needs a string {id_field}")
                state.load(kind, doc[id_field], doc)
        for blob_id, blob in blobs.items():
            try:
                state.blobs[blob_id] = (blob["contentType"], base64.b64decode(blob["data"], validate=True))
            except (KeyError, TypeError, binascii.Error):
                raise Invalid("InvalidSnapshot", f"blob {blob_id} is malformed") from None
        if not state.docs.get("account"):
            raise Invalid("InvalidSnapshot", "a snapshot holds at least one account")
        upgrade_accounts(list(state.docs["account"].values()))  # snapshots from before account domains
        await self._replace_state(state, "snapshot")
        return {kind: len(docs) for kind, docs in state.docs.items()}


_ID_FIELDS = {"account": "accountId", "user": "userId", "group": "groupId", "contact": "contactId",
              "application": "recordId", "mail": "mailId", "auth_code": "code",
              "recording": "recordingId", "endpoint": "endpointKey", "call_record": "recordId",
              "voicemail": "voicemailId", "agent": "agentKey", "queue_call": "recordId",
              "subscription": "subscriptionId", "delivery": "deliveryId", "presence": "principalId",
              "connection": "connectionId", "conference": "id", "participant": "recordId", "attendance": "id",
              "conversation": "conversationId", "message": "messageId",
              # the contact center's configuration and state (core/contact_center/config.py)
              **{kind: "id" for kind in ("cc_site", "cc_employee", "cc_agent_group", "cc_queue", "cc_reason",
                                         "cc_warning", "cc_dnis", "cc_client", "cc_directory", "cc_interaction",
                                         "cc_state", "cc_call_details", "cc_greetings")}}

