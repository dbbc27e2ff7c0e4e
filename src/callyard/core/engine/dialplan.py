"""Numbers → endpoints, per account: extensions, group numbers, DIDs, the voicemail pilot, external numbers.

The plan is derived from the directory (a user's ``extension``, a group's ``extension``) and the account's
``pbx`` settings (``dids``: DID → internal number, ``voicemail``: pilot number). It is cached per account
and dropped whenever a user, group or account of that account changes.

A number a user dials that the plan does not know may be one of their personal dial codes (a speed dial or an
abbreviated number of their personal contacts, core/personal_contacts): ``personal_number`` asks the
``personal`` resolver the core registers and dials the number it stands for.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from callyard.core.engine.model import EXTENSION, EXTERNAL, GROUP, VOICEMAIL, Endpoint
from callyard.core.engine.terminals import user_terminals
from callyard.core.state import State

DEFAULT_VOICEMAIL = "6000"
_EXTERNAL = re.compile(r"^\+?[0-9]{7,15}$")
_DIALABLE = re.compile(r"^[0-9*#+]{1,32}$")
_SEPARATORS = re.compile(r"[\s\-().]")


def normalise(number: str) -> str:
    if not isinstance(number, str):
        return ""
    if number.isascii() and number.isdigit():   # nothing to take out (the common case: an extension)
        return number
    return _SEPARATORS.sub("", number.strip())


def is_dialable(number: str) -> bool:
    return bool(_DIALABLE.match(normalise(number)))


def is_external(number: str) -> bool:
    return bool(_EXTERNAL.match(normalise(number)))


class DialPlan:
    def __init__(self, state: State) -> None:
        self.state = state
        self._plans: dict[str, dict[str, tuple[str, dict[str, Any]]]] = {}
        # (account, number as given) → what ``resolve`` answered, with what it was worked out from: the
        # generations of users, groups and accounts and the account's plan object (a call action resolves the
        # same few numbers five or six times: the actor's endpoint, presence, the contact center's agent)
        self._resolved: dict[tuple[str, str], tuple[tuple[Any, ...], object, Endpoint]] = {}
        # Per account, built with its plan: each user's extension (the first in the plan's order)
        self._extensions: dict[str, dict[str, str]] = {}
        # (account, user, dialled) → the number a personal speed dial or abbreviated number stands for
        self.personal: Callable[[str, str, str], str | None] | None = None

    def invalidate(self, account_id: str | None = None) -> None:
        if account_id is None:
            self._plans.clear()
            self._resolved.clear()
            self._extensions.clear()
        else:
            self._plans.pop(account_id, None)
            self._extensions.pop(account_id, None)

    def pbx(self, account_id: str) -> dict[str, Any]:
        account = self.state.get("account", account_id) or {}
        return account.get("pbx") or {}

    def voicemail_pilot(self, account_id: str) -> str:
        return str(self.pbx(account_id).get("voicemail") or DEFAULT_VOICEMAIL)

    def _plan(self, account_id: str) -> dict[str, tuple[str, dict[str, Any]]]:
        plan = self._plans.get(account_id)
        if plan is None:
            plan = {}
            for group in self.state.all("group"):
                if group["accountId"] == account_id and group.get("extension"):
                    plan[normalise(group["extension"])] = (GROUP, group)
            for user in self.state.all("user"):
                if user["accountId"] == account_id and user.get("extension") and user.get("active", True):
                    plan[normalise(user["extension"])] = (EXTENSION, user)
            self._plans[account_id] = plan
        return plan

    def internal(self, account_id: str, number: str) -> tuple[str, dict[str, Any]] | None:
        return self._plan(account_id).get(normalise(number))

    def personal_number(self, account_id: str, user_id: str | None, dialled: str) -> str:
        """What a user's dialled digits reach: a number of the PBX as it is, else the number of the user's
        speed dial or abbreviated number, else the digits as dialled."""
        number = normalise(dialled)
        if (self.personal is None or user_id is None or self.internal(account_id, number) is not None
                or number == self.voicemail_pilot(account_id) or number in (self.pbx(account_id).get("dids") or {})):
            return dialled
        return self.personal(account_id, user_id, number) or dialled

    def numbers(self, account_id: str) -> list[str]:
        """Every internal number of the account (extensions and group numbers), in dialling order."""
        return sorted(self._plan(account_id), key=lambda n: (len(n), n))

    def user_extension(self, account_id: str, user_id: str) -> str | None:
        plan = self._plan(account_id)
        extensions = self._extensions.get(account_id)
        if extensions is None:
            extensions = {}
            for number, (kind, doc) in plan.items():
                if kind == EXTENSION:
                    extensions.setdefault(doc["userId"], number)
            self._extensions[account_id] = extensions
        return extensions.get(user_id)

    def _stamp(self) -> tuple[Any, ...]:
        generation = self.state.generation
        return generation("user"), generation("group"), generation("account")

    def resolve(self, account_id: str, number: str, endpoints: dict[tuple[str, str], Endpoint]) -> Endpoint | None:
        """The endpoint ``number`` reaches from inside ``account_id``, creating its live object on first use;
        ``None`` when nothing answers to it (destNotObtainable). Remembered until a user, group or account
        changes, the plan is dropped, or the live object leaves ``endpoints``."""
        key = (account_id, number)
        hit = self._resolved.get(key)
        if hit is not None:
            stamp, plan, endpoint = hit
            if (plan is self._plans.get(account_id) and endpoints.get((account_id, endpoint.number)) is endpoint
                    and stamp == self._stamp()):
                return endpoint
        found = self._resolve(account_id, number, endpoints)
        if found is not None:
            if len(self._resolved) >= 8192:
                self._resolved.clear()
            self._resolved[key] = (self._stamp(), self._plans.get(account_id), found)
        return found

    def _resolve(self, account_id: str, number: str, endpoints: dict[tuple[str, str], Endpoint]) -> Endpoint | None:
        number = normalise(number)
        if not number:
            return None
        for _ in range(3):  # a DID maps to an internal number, never to another DID chain longer than that
            did_target = (self.pbx(account_id).get("dids") or {}).get(number)
            if did_target is None:
                break
            number = normalise(str(did_target))
        found = self._plan(account_id).get(number)   # ``internal``, the number being normalised already
        existing = endpoints.get((account_id, number))
        if found is not None:
            kind, doc = found
            if existing is not None and existing.kind == kind and (existing.user_id or existing.group_id) == (
                    doc.get("userId") if kind == EXTENSION else doc.get("groupId")):
                return existing
            endpoint = _endpoint_for(account_id, number, kind, doc)
            if existing is not None:
                endpoint.legs = existing.legs  # renumbered or reassigned: calls in progress stay put
                endpoint.line_states = existing.line_states
            endpoints[(account_id, number)] = endpoint
            return endpoint
        if number == self.voicemail_pilot(account_id):
            if existing is None:
                existing = endpoints[(account_id, number)] = Endpoint(account_id, number, VOICEMAIL, "Voicemail")
            return existing
        if is_external(number):
            if existing is None or existing.kind != EXTERNAL:
                existing = endpoints[(account_id, number)] = Endpoint(account_id, number, EXTERNAL, "")
            return existing
        return None


def _endpoint_for(account_id: str, number: str, kind: str, doc: dict[str, Any]) -> Endpoint:
    if kind == GROUP:
        return Endpoint(account_id, number, GROUP, doc.get("name", ""), group_id=doc["groupId"])
    name = doc.get("name") or " ".join(p for p in (doc.get("firstName"), doc.get("lastName")) if p) or ""
    return Endpoint(account_id, number, EXTENSION, name, user_id=doc["userId"],
                    terminals=user_terminals(number, doc))
