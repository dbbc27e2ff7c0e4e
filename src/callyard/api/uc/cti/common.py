"""What the CTI routers share: the caller dependency (CALL_CONTROL ticket + CTI licence), the user's
extension, rendering CallState, state tokens, destinations and inline webhooks."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Mapping

from fastapi import Depends

from callyard.api.deps import CoreDep
from callyard.api.uc.cti.devices import device_ids, user_extension
from callyard.api.uc.cti.schemas import InlineWebhook
from callyard.api.uc.cti.wire import call_state
from callyard.api.uc.edge import CALL_CONTROL, UcCaller, caller_for, invalid
from callyard.core.cti.webhooks import check_target
from callyard.core.engine.model import Endpoint
from callyard.core.engine.service import Then
from callyard.core.service import Core
from callyard.core.state import UnitOfWork

cti_caller = caller_for(CALL_CONTROL, cti=True)
CtiCaller = Annotated[UcCaller, Depends(cti_caller)]
_NUMBER = re.compile(r"^\+?[0-9*#]{1,32}$")


@dataclass
class Cti:
    """One CTI request: the core, the caller and the extension of the user acted on."""
    core: Core
    caller: UcCaller
    endpoint: Endpoint

    @property
    def number(self) -> str:
        return self.endpoint.number

    @property
    def domain(self) -> str:
        account = self.core.rt.state.get("account", self.caller.account_id) or {}
        return str(account.get("domain", ""))

    def render(self, view: Mapping[str, Any], event: str | None = None) -> dict[str, Any]:
        return call_state(view, device_ids(self.endpoint), self.domain, self.core.rt.clock.now(), event)

    def destination(self, value: str) -> str:
        """A dialable number from a SIP/tel URI or a number: ``tel:+16135550100``, ``sip:2881@acme.example``,
        ``sip:bob@acme.example`` (a user of the organisation: their extension), ``2881``."""
        raw = value.strip()
        for scheme in ("sip:", "sips:", "tel:"):
            if raw.lower().startswith(scheme):
                raw = raw[len(scheme):]
        raw = raw.split(";", 1)[0]
        local, _, domain = raw.partition("@")
        if domain and domain.lower() != self.domain.lower():
            invalid("destination", "destination.not.valid", "the destination is not in this organisation",
                    value)
        if _NUMBER.match(local):
            return local
        user = self.core.directory.user_by_login(self.caller.account_id, local) if local else None
        if user is None or not user.get("extension"):
            invalid("destination", "destination.not.valid", "the destination is a number, a tel: URI or the SIP "
                    "URI of a user of the organisation", value)
        return str(user["extension"])


async def cti(domain: str, userId: str, caller: CtiCaller, core: CoreDep) -> Cti:
    """The request's CTI context; ``domain`` and ``userId`` are declared here so the document lists them."""
    return Cti(core, caller, user_extension(core.engine, caller.user))

CtiDep = Annotated[Cti, Depends(cti)]


def tokens(call_id: str, state_token: int | None, target_id: str | None = None,
           target_token: int | None = None) -> dict[str, int]:
    """The expected state tokens of the request (optimistic locking), by leg id."""
    expect = {}
    if state_token is not None:
        expect[call_id] = state_token
    if target_id is not None and target_token is not None:
        expect[target_id] = target_token
    return expect


def inline_webhook(body: InlineWebhook | None) -> InlineWebhook | None:
    """A webhook the request registers with the call it sets up (validated before anything changes)."""
    if body is None or body.targetUrl is None:
        if body is not None and body.targetId is not None:
            invalid("targetUrl", "targetUrl.required", "targetId names a webhook only with a targetUrl")
        return None
    check_target(body.targetUrl, body.targetId)
    return body


def register_inline(ctx: Cti, hook: InlineWebhook | None) -> Then | None:
    """The registration of an inline webhook, run in the engine's transaction with the call it rides on (so
    it commits with the call, and its first callback carries the call's first stateToken)."""
    if hook is None:
        return None
    webhooks, account_id, user_id = ctx.core.cti_webhooks, ctx.caller.account_id, ctx.caller.user["userId"]

    def register(uow: UnitOfWork, view: dict[str, Any]) -> None:
        webhooks.register_in(uow, account_id, user_id, target_url=hook.targetUrl, target_id=hook.targetId,
                             public_target=hook.publicTarget, leg_id=view["legId"])
    return register
