"""The core facade every API family talks to: one object holding the directory, applications, auth and
the runtime. ``callyard.app`` builds exactly one of these per process."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Mapping

from callyard.core.auth.service import Auth
from callyard.core.auth.tickets import Tickets
from callyard.core.auth.tokens import TokenService
from callyard.core.clock import Clock
from callyard.core.commlog import CommLog
from callyard.core.contact_center import ContactCenter
from callyard.core.contacts import Contacts
from callyard.core.contact_center.authorization import AuthorizationServer
from callyard.core.contact_center.chat import WebChat
from callyard.core.contact_center.media_desk import MediaDesk
from callyard.core.contact_center.sms import SmsChannel
from callyard.core.contact_center.user_groups import UserGroups
from callyard.core.cti.webhooks import CtiWebhooks
from callyard.core.devices import Devices
from callyard.core.devices.calls import UserCalls
from callyard.core.devices.diversion import Diversions
from callyard.core.devices.recording_control import RecordingControl
from callyard.core.devices.user_settings import UserSettings
from callyard.core.devices.webhooks import DeviceWebhooks
from callyard.core.directory.applications import Applications
from callyard.core.directory.service import Directory
from callyard.core.directory.tenant import build_state, read_tenant
from callyard.core.engine.recordings import Recordings
from callyard.core.engine.history import CallHistory
from callyard.core.engine.service import Engine
from callyard.core.errors import Conflict, CoreError
from callyard.core.ids import Ids
from callyard.core.notifications.connections import Connections
from callyard.core.notifications.service import Notifications
from callyard.core.meetings.events import MeetingEvents
from callyard.core.meetings.service import Meetings
from callyard.core.messaging.service import Messaging
from callyard.core.messaging.sms import SmsOutbox
from callyard.core.personal_contacts import PersonalContacts
from callyard.core.presence.service import Presence
from callyard.core.presence.uc import UcPresence
from callyard.core.runtime import Runtime
from callyard.core.principal import SYSTEM, Principal
from callyard.core.scheduler import Scheduler
from callyard.core import snapshots
from callyard.core.snapshots import Sealer
from callyard.core.state import State
from callyard.events.event import TWIN_RESET, Event
from callyard.events.outbox import Outbox
from callyard.events.projections import Projections
from callyard.core.ports import Store
from callyard.core.quotas import Quotas


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
        self.tickets = Tickets(self.rt, self.directory)   # the UC User API's credential
        self.recordings = Recordings(self.rt)
        self.meetings = Meetings(self.rt, self.directory.access, self.recordings)
        self.meeting_events = MeetingEvents(self.rt, self.meetings)   # scheduled meetings over the conferences
        self.scheduler = Scheduler(clock)
        self.engine = Engine(self.rt, self.directory.access, self.recordings, self.scheduler)
        self.contact_center = ContactCenter(self.engine)
        self.cc_authorization = AuthorizationServer(self.rt, self.tokens)
        self.history = CallHistory(self.rt)
        self.devices = Devices(self.engine)
        self.user_calls = UserCalls(self.devices)
        self.recording_control = RecordingControl(self.devices)
        self.device_webhooks = DeviceWebhooks(self.rt)
        self.user_groups = UserGroups(self.contact_center)
        self.commlog = CommLog(self.rt)
        self.presence = Presence(self.rt, self.directory.access, self.engine)
        # The UC User API's view of the same presence, its diversions and user settings (issue 16).
        self.uc_presence = UcPresence(self.rt, self.presence, self.scheduler)
        self.diversions = Diversions(self.engine, self.presence)
        self.user_settings = UserSettings(self.engine)
        self.messaging = Messaging(self.rt, self.directory.access)
        self.sms = SmsOutbox(self.rt, self.directory.access)   # every SMS any family sends (/_callyard/sms)
        self.personal_contacts = PersonalContacts(self.rt)
        self.engine.dialplan.personal = self.personal_contacts.dial   # speed dials and abbreviated numbers
        # UC contact lists, directory fields, scheduled presence (with the personal contacts in the default list)
        self.contacts = Contacts(self.rt, self.directory, self.engine, self.scheduler, self.uc_presence,
                                 self.personal_contacts)
        # the contact center's web chats (CloudLink conversations) and SMS (the outbox), and the CX view of them
        self.cc_chat = WebChat(self.contact_center, self.messaging)
        self.cc_sms = SmsChannel(self.contact_center, self.sms)
        self.cc_media = MediaDesk(self.contact_center, self.cc_chat, self.cc_sms)
        self.outbox = Outbox(self.rt)
        # UC per-call and per-user call-state webhooks
        self.cti_webhooks = CtiWebhooks(self.rt, lambda account_id, leg_id: self.engine.call_table.leg(
            account_id, leg_id) is not None)
        self.connections = Connections(self.rt, self.directory.access)
        self.notifications = Notifications(self.rt, self.directory.access, self.outbox, self.connections)
        self.set_quotas(Quotas())
        # A subscription delivers only what its owner may read over REST: the owners' read rules, registered.
        self.notifications.register_reader("call", self.engine.may_read)
        self.notifications.register_reader("conversation", self.messaging.may_read)
        self.notifications.register_reader("message", self.messaging.may_read)
        # The retention sweep runs on the scheduler, which a reset clears: it is armed again after each one.
        self.notifications.keep_tidy(self.scheduler)
        self.auth.keep_tidy(self.scheduler)
        self.cti_webhooks.keep_tidy(self.scheduler)
        self.tickets.keep_tidy(self.scheduler)
        self.meeting_events.keep_reminding(self.scheduler, self.sms)
        self.projections.after_commit("retention sweep re-armed after a reset",
                                      lambda _event: self.notifications.keep_tidy(self.scheduler), events=(TWIN_RESET,))
        self.projections.after_commit("token families sweep re-armed after a reset",
                                      lambda _event: self.auth.keep_tidy(self.scheduler), events=(TWIN_RESET,))
        self.projections.after_commit("CTI webhook sweep re-armed after a reset",
                                      lambda _event: self.cti_webhooks.keep_tidy(self.scheduler), events=(TWIN_RESET,))
        self.projections.after_commit("meeting SMS reminders re-armed after a reset",
                                      lambda _event: self.meeting_events.keep_reminding(self.scheduler, self.sms),
                                      events=(TWIN_RESET,))
        self.projections.after_commit("API ticket sweep re-armed after a reset",
                                      lambda _event: self.tickets.keep_tidy(self.scheduler), events=(TWIN_RESET,))
        # Subscriptions whose stored filters do not compile (older rules, an import) are disabled with a reason.
        self.projections.after_commit("subscriptions with filters that do not compile are disabled",
                                      self._disable_unmatchable, events=(TWIN_RESET,))

    def set_quotas(self, quotas: Quotas) -> None:
        """The per-account quotas (core/quotas.py), from the server's settings."""
        self.quotas = quotas
        self.notifications.quota = quotas.subscriptions
        self.connections.quota = quotas.connections
        self.messaging.quota = quotas.conversations

    async def _disable_unmatchable(self, _event: Event) -> None:
        await self.notifications.disable_unmatchable()

    async def start(self) -> bool:
        """Open the store, load the persisted state or, on first start, the tenant baseline. Returns whether
        the tenant was freshly loaded."""
        await self.rt.store.open()
        await self.tokens.load_or_create_key()
        self.scheduler.start()
        if await self.rt.store.load(self.rt.state):
            self.presence.reset()  # the aggregate view of the persisted state, before the first change
            self.uc_presence.rearm()   # the stored UC activity expirations run on the clock again
            self.contacts.future.rearm()   # scheduled presence waits for its next occurrence
            await self.notifications.disable_unmatchable()
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
            self.user_calls.reset()
            self.outbox.forget_finished()
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

    def sealer(self) -> Sealer:
        """Seals a snapshot's secrets with a key only this twin has (derived from its signing key)."""
        return Sealer(self.tokens.derive_key("callyard snapshot secrets"))

    def export_state(self, accounts: set[str] | None = None) -> dict[str, Any]:
        """A snapshot of the whole twin (``accounts`` None) or of those accounts only; secrets sealed."""
        return snapshots.export(self.rt.state, self.sealer(), self.rt.now_iso(), accounts)

    async def import_state(self, snapshot: Any, actor: Principal = SYSTEM,
                           accounts: set[str] | None = None) -> dict[str, int]:
        """Replace the whole twin (``accounts`` None) or those accounts with a snapshot, all or nothing."""
        state = snapshots.parse(snapshot, self.sealer())
        if accounts is None:
            await self._replace_state(state, "snapshot")
        else:
            snapshots.check_scoped(self.rt.state, state, accounts, actor)
            await self._replace_accounts(accounts, state, "twin.accountImported")
        return {kind: len(docs) for kind, docs in state.docs.items()}

    async def reset_accounts(self, accounts: set[str]) -> None:
        """Back to the tenant baseline for ``accounts`` only; accounts created since the baseline are removed.
        The other accounts do not notice."""
        baseline = build_state(self.rt, self.tenant)
        if not accounts & set(baseline.docs.get("account", {})):
            raise Conflict("NotInBaseline", "the tenant baseline has none of these accounts: nothing to reset to")
        await self._replace_accounts(accounts, baseline, "twin.accountReset")

    async def _replace_accounts(self, accounts: set[str], source: State, event_type: str) -> None:
        """Make the documents of ``accounts`` those ``source`` holds for them, in one write: live calls of
        the accounts are hung up first (a PBX restart of theirs), the rest of the twin is untouched."""
        await self._hang_up(accounts)
        kept = [(kind, doc_id, doc) for kind, doc_id, doc in snapshots.in_scope(source, accounts)]
        owned = set().union(*(snapshots.blob_refs(doc) for _k, _i, doc in kept))
        async with self.rt.write() as uow:
            for kind, doc_id, doc in list(snapshots.in_scope(self.rt.state, accounts)):
                for blob_id in snapshots.blob_refs(doc):
                    if blob_id in self.rt.state.blobs:
                        uow.delete_blob(blob_id)
                uow.delete(kind, doc_id)
            for kind, doc_id, doc in kept:
                uow.put(kind, doc_id, copy.deepcopy(doc))
            for blob_id in sorted(owned & set(source.blobs)):
                uow.put_blob(blob_id, *source.blobs[blob_id])
            for account_id in sorted(accounts):
                uow.emit(event_type, account_id, f"/accounts/{account_id}", None, self.rt.now_iso())
        self.engine.forget_accounts(accounts)
        self.presence.reset()

    async def _hang_up(self, accounts: set[str]) -> None:
        """End every live leg of ``accounts`` as the simulator's phones would."""
        attempts = 0
        while True:
            legs = [(leg["endpointId"], leg["legId"], call["accountId"]) for call in self.engine.live_calls()
                    if call["accountId"] in accounts for leg in call["legs"]]
            if not legs or attempts > 4 * len(legs) + 20:
                return
            attempts += 1
            number, leg_id, account_id = legs[0]
            try:
                await self.engine.end(SYSTEM, number, leg_id, sim=True, account_ref=account_id)
            except CoreError:
                continue
