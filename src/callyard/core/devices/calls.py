"""The UC Calls API's verbs on a user's calls: transferring the call in progress (blind or attended) with its
status and cancel, and the call-back call through an answer place.

* **Blind transfer**: the user's call in progress (the one on their mobile first) is sent to the destination
  and the user leaves (``Engine.blind_transfer``). It is "ongoing" while the destination rings.
* **Attended transfer**: the call is held and the destination called (``Engine.consult``); when the
  destination answers, the two calls are joined and the user leaves (``Engine.supervised_transfer``, run by
  an after-commit projection on the consultation leg's answer). Cancelling hangs the consultation up and
  takes the held call back.
* **Call-back call**: the platform calls the user's answer place (``mobile``, ``deskphone`` or ``softphone``,
  or a device id) and connects it to the contact (a user's login or an E.164 number). The twin's answer place
  answers at once (there is no person to pick up), so the user's leg is connected on that device from the
  start and the contact's phone rings.

Transfers in progress are live state (like calls): a restart forgets them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from callyard.core.clock import iso
from callyard.core.devices.service import Devices, acting_for
from callyard.core.engine.model import Endpoint, Leg
from callyard.core.engine.terminals import find_terminal
from callyard.core.errors import Conflict, Invalid, NotFound
from callyard.core.principal import SYSTEM, Principal
from callyard.events.event import Event

TRANSFER_TYPES = ("BLIND_TRANSFER", "ATTENDED_TRANSFER")
ANSWER_PLACES = {"mobile": "MOBILE", "deskphone": "DESKPHONE", "softphone": "SOFTPHONE"}


@dataclass
class Transfer:
    transfer_id: str
    account_id: str
    user_id: str
    kind: str
    destination: str
    started_ms: int
    number: str                  # the user's extension
    held_leg: str                # the call being transferred (the user's leg)
    target_leg: str | None       # blind: the destination's ringing leg; attended: the user's consultation leg

    def view(self) -> dict[str, Any]:
        return {"transferStartTime": self.started_ms, "type": self.kind, "id": self.transfer_id,
                "destination": self.destination}


class UserCalls:
    def __init__(self, devices: Devices) -> None:
        self.devices = devices
        self.engine = devices.engine
        self.rt = devices.rt
        self.transfers: dict[tuple[str, str], Transfer] = {}
        self.rt.projections.after_commit("attended transfers complete when the destination answers",
                                         self._on_call_state, events=("call.state",))

    def reset(self) -> None:
        self.transfers.clear()

    # ------------------------------------------------------------------ helpers
    def _extension(self, actor: Principal, account_id: str, user_id: str) -> Endpoint:
        acting_for(self.rt, actor, account_id, user_id)
        endpoint = self.devices.extension(account_id, user_id)
        if endpoint is None:
            raise NotFound("user.has.no.extension", f"user {user_id} has no extension", field="user", value=user_id)
        return endpoint

    @staticmethod
    def _current_call(endpoint: Endpoint) -> Leg:
        """The user's call in progress: the talking one, the one on their mobile first."""
        talking = [leg for leg in endpoint.legs if leg.state == "connected" and leg.consult_for is None]
        mobile = [leg for leg in talking if (leg.terminal or "").startswith("0.")]
        chosen = (mobile or talking)
        if not chosen:
            raise Conflict("no.call.in.progress", "the user has no call in progress to transfer")
        return chosen[0]

    def _live(self, transfer: Transfer) -> bool:
        """Whether ``transfer`` is still in progress."""
        if transfer.target_leg is None:
            return False
        leg = self.engine.call_table.leg(transfer.account_id, transfer.target_leg)
        if leg is None or leg.state == "completed":
            return False
        if transfer.kind == "BLIND_TRANSFER":
            return leg.state == "ringing"
        return leg.answered_on is None   # the consultation is still ringing at the destination

    # ------------------------------------------------------------------ transfers
    def status(self, actor: Principal, account_id: str, user_id: str) -> dict[str, Any] | None:
        self._extension(actor, account_id, user_id)
        transfer = self.transfers.get((account_id, user_id))
        if transfer is None or not self._live(transfer):
            return None
        return transfer.view()

    async def transfer(self, actor: Principal, account_id: str, user_id: str, transfer_type: object,
                       destination: object) -> dict[str, Any]:
        if transfer_type not in TRANSFER_TYPES:
            raise Invalid("transferType.not.valid", f"transferType must be one of {', '.join(TRANSFER_TYPES)}",
                          field="transferType", value=str(transfer_type))
        if not isinstance(destination, str) or not destination.strip():
            raise Invalid("destination.required", "destination is required", field="destination")
        endpoint = self._extension(actor, account_id, user_id)
        ongoing = self.transfers.get((account_id, user_id))
        if ongoing is not None and self._live(ongoing):
            raise Conflict("transfer.in.progress", "a transfer is already in progress", field="transferId",
                           value=ongoing.transfer_id)
        leg = self._current_call(endpoint)
        transfer = Transfer(self.rt.ids.digits(8), account_id, user_id, str(transfer_type), destination.strip(),
                            int(self.engine.now().timestamp() * 1000), endpoint.number, leg.leg_id, None)
        if transfer_type == "BLIND_TRANSFER":
            partner_call = leg.call
            await self.engine.blind_transfer(actor, endpoint.number, leg.leg_id, transfer.destination)
            ringing = [o for o in (partner_call.live_legs() if partner_call else []) if o.state == "ringing"]
            transfer.target_leg = ringing[0].leg_id if ringing else None
        else:
            consultation = await self.engine.consult(actor, endpoint.number, leg.leg_id, transfer.destination)
            transfer.target_leg = consultation["legId"]
        self.transfers[(account_id, user_id)] = transfer
        return {"transferStartTime": transfer.started_ms, "id": transfer.transfer_id}

    async def cancel(self, actor: Principal, account_id: str, user_id: str, transfer_id: str) -> None:
        """Cancel an attended transfer: hang the consultation up and take the held call back."""
        endpoint = self._extension(actor, account_id, user_id)
        transfer = self.transfers.get((account_id, user_id))
        if transfer is None or transfer.transfer_id != transfer_id or not self._live(transfer):
            raise NotFound("transfer.does.not.exist", f"no transfer {transfer_id} in progress",
                           field="transferId", value=transfer_id)
        if transfer.kind != "ATTENDED_TRANSFER" or transfer.target_leg is None:
            raise Conflict("transfer.not.cancellable", "only an attended transfer can be cancelled",
                           field="transferId", value=transfer_id)
        await self.engine.end(actor, endpoint.number, transfer.target_leg)
        held = self.engine.call_table.leg(account_id, transfer.held_leg)
        if held is not None and held.state == "held":
            await self.engine.retrieve(actor, endpoint.number, held.leg_id)
        self.transfers.pop((account_id, user_id), None)

    async def _on_call_state(self, event: Event) -> None:
        """The destination of an attended transfer answered: join the calls, the user leaves."""
        data = event.data or {}
        if not data.get("answeredOn") or data.get("state") != "connected" or data.get("direction") != "outbound":
            return
        for key, transfer in list(self.transfers.items()):
            consultation = transfer.target_leg
            if transfer.kind == "ATTENDED_TRANSFER" and consultation is not None \
                    and consultation == data.get("legId") and transfer.account_id == event.account_id:
                self.transfers.pop(key, None)
                try:
                    await self.engine.supervised_transfer(SYSTEM, transfer.number, consultation,
                                                          transfer.held_leg, sim=True,
                                                          account_ref=transfer.account_id)
                except (Conflict, Invalid, NotFound):
                    pass  # the user changed the calls meanwhile (hung up, retrieved): nothing to join

    # ------------------------------------------------------------------ call-back call
    async def call_back(self, actor: Principal, account_id: str, user_id: str, answer_place: str,
                        contact: str, *, role: str | None = None, bypass: bool = False,
                        intrude: bool = False) -> dict[str, Any]:
        """Call the user's answer place and connect it to ``contact``. Returns the user's leg. ``bypass``
        ignores the contact's diversions; ``intrude`` joins the contact's call when they are in one."""
        endpoint = self._extension(actor, account_id, user_id)
        terminal = find_terminal(endpoint.terminals, answer_place) or next(
            (t for t in endpoint.terminals if t["type"] == ANSWER_PLACES.get(answer_place.lower(), "")), None)
        if terminal is None:
            raise Invalid("aptype.not.valid", f"{answer_place} is not an answer place of the user", field="aptype",
                          value=answer_place)
        if role is not None and role.upper() not in ("PRIVATE", "BUSINESS") and not role.isdigit():
            raise Invalid("role.not.valid", f"{role} is not a role", field="role", value=role)
        destination = self._contact_number(account_id, contact)
        target = self.engine.endpoint(account_id, destination)
        if intrude and target is not None and target.kind == "extension" and any(
                leg.state == "connected" for leg in target.legs):
            placed = await self.engine.intrude(actor, endpoint.number, destination, "INTRUSION",
                                               terminal=terminal["deviceId"])
        else:
            placed = await self.engine.originate(actor, endpoint.number, destination,
                                                 route="bypass" if bypass else "basic", terminal=terminal["deviceId"])
        return {**placed, "terminal": terminal["deviceId"], "startedOn": iso(self.engine.now())}

    def _contact_number(self, account_id: str, contact: str) -> str:
        """A contact (``bob@acme.example``, ``bob``) or a number (``+468123456789``, ``2881``) as a number."""
        text = contact.strip()
        if "@" in text or not any(ch.isdigit() for ch in text):
            local = text.split("@", 1)[0].lower()
            for user in self.rt.state.all("user"):
                login = str(user.get("email") or "").lower()
                if user["accountId"] == account_id and (login == text.lower() or login.split("@")[0] == local):
                    if user.get("extension"):
                        return str(user["extension"])
                    if user.get("mobile"):
                        return str(user["mobile"])
            raise NotFound("contact.does.not.exist", f"contact {contact} was not found", field="cid", value=contact)
        return text
