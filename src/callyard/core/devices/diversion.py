"""The UC diversions (seed 003: Diversion, Activity Diversion Mapping), executed by the engine.

* **Rules of the PRIMARY line** (the user's extension) ARE the extension's settings, the ones the Media API and
  the simulator set: ``CFWD_ALL`` = ``forwardAlways``, ``CFWD_ON_BUSY`` = ``forwardBusy``, ``CFWD_NO_ANSWER``
  = ``forwardNoAnswer``, ``CFWD_ON_BUSY_IN_CALL`` = ``forwardBusyInCall`` and ``CFWD_UNREACHABLE`` =
  ``forwardUnreachable`` (both added for the UC family, routing.py). A combined type (``CFWD_NO_ANSWER_OR_
  UNREACHABLE``…) sets both its parts; it reads as set when both parts hold the same number. Nothing is
  stored twice, so a forward set through CloudLink shows here and the other way round.
* **Rules of the SECONDARY line** (the user's mobile, ``OFFICE_MOBILE``) are stored (documents
  ``mobile_diversion``, id field ``userId``) and shown, but no call reaches them: the twin's mobile numbers are
  outside numbers of the trunk (docs/compatibility.md).
* **The active diversion number** is the extension's ``forwardActivity`` (calls go there unless CFWD_ALL is
  set; Media cause ``callForward``). Set by hand it stays until cleared, unless ``activityScoped``: then the
  next activity change clears it.
* **Activity diversions** (documents ``activity_diversion``, id field ``userId``: ``{mapping: {activityId:
  number}}``): when the user's activity changes (through the UC API, CloudLink or an expiration), the new
  activity's number becomes the active diversion number (activity-scoped) — unless a number set by hand is
  active, which stays, except with ``forcePremappedDiversion``. A presence shortcut with
  ``applyDiversionNumber`` puts its own number there instead of the mapped one.
"""
from __future__ import annotations

from typing import Any

from callyard.core.devices.service import acting_for
from callyard.core.engine.dialplan import is_dialable
from callyard.core.engine.model import EXTENSION, Endpoint
from callyard.core.engine.service import Engine
from callyard.core.errors import Invalid, NotFound
from callyard.core.presence import activities
from callyard.core.presence.service import Presence
from callyard.core.principal import Principal
from callyard.core.state import UnitOfWork

LINES = ("PRIMARY", "SECONDARY")
RULE_TYPES = ("CFWD_ALL", "CFWD_ON_BUSY_IN_CALL", "CFWD_ON_BUSY", "CFWD_NO_ANSWER", "CFWD_UNREACHABLE",
              "CFWD_NO_ANSWER_OR_UNREACHABLE", "CFWD_ON_BUSY_OR_UNREACHABLE", "CFWD_ON_BUSY_IN_CALL_OR_UNREACHABLE")
PARTS: dict[str, tuple[str, ...]] = {
    "CFWD_ALL": ("forwardAlways",), "CFWD_ON_BUSY_IN_CALL": ("forwardBusyInCall",),
    "CFWD_ON_BUSY": ("forwardBusy",), "CFWD_NO_ANSWER": ("forwardNoAnswer",),
    "CFWD_UNREACHABLE": ("forwardUnreachable",),
    "CFWD_NO_ANSWER_OR_UNREACHABLE": ("forwardNoAnswer", "forwardUnreachable"),
    "CFWD_ON_BUSY_OR_UNREACHABLE": ("forwardBusy", "forwardUnreachable"),
    "CFWD_ON_BUSY_IN_CALL_OR_UNREACHABLE": ("forwardBusyInCall", "forwardUnreachable")}
FORWARD_KEYS = ("forwardAlways", "forwardBusyInCall", "forwardBusy", "forwardNoAnswer", "forwardUnreachable")
MOBILE = "mobile_diversion"
MAPPING = "activity_diversion"


def rules_of(settings: dict[str, Any]) -> list[dict[str, Any]]:
    """Every rule type of a line, each with its ``phoneNumber`` when set (the seed's listing)."""
    out = []
    for rule_type in RULE_TYPES:
        number = rule_number(settings, rule_type)
        out.append({**({"phoneNumber": number} if number else {}), "diversionRoutingRulesType": rule_type})
    return out


def rule_number(settings: dict[str, Any], rule_type: str) -> str | None:
    values = {settings.get(part) for part in PARTS[rule_type]}
    if len(values) == 1:
        value = values.pop()
        return str(value) if value else None
    return None


def decide(current: str | None, scoped: bool, mapped: str | None, options: dict[str, Any],
           changed: bool) -> tuple[str | None, bool] | None:
    """The active diversion number (and whether it is activity-scoped) after the activity became one whose
    mapped number is ``mapped`` (``changed``: an activity change; else a new mapping of the current activity),
    or None to leave it as it is. ``options``: ``diversion`` (a shortcut's number), ``force``
    (forcePremappedDiversion)."""
    if options.get("diversion"):
        return str(options["diversion"]), True
    if current and not scoped and not options.get("force"):
        return None   # a number set by hand stays until cleared (forcePremappedDiversion overrides it)
    if mapped:
        return mapped, True
    if (scoped and changed) or options.get("force"):
        return None if current is None else (None, False)   # a scoped number ends with its activity
    return None


class Diversions:
    def __init__(self, engine: Engine, presence: Presence) -> None:
        self.engine = engine
        self.rt = engine.rt
        self.presence = presence
        presence.activity_listeners.append(self._on_activity)

    # ================================================================== lines
    def _user(self, actor: Principal, account_id: str, user_id: str) -> dict[str, Any]:
        return acting_for(self.rt, actor, account_id, user_id)

    def _extension(self, user: dict[str, Any]) -> Endpoint | None:
        number = user.get("extension")
        endpoint = self.engine.endpoint(user["accountId"], str(number)) if number else None
        return endpoint if endpoint is not None and endpoint.kind == EXTENSION else None

    @staticmethod
    def _line(line: object) -> str:
        if not isinstance(line, str) or line.upper() not in LINES:
            raise Invalid("lineOrderType.not.valid", "lineOrderType is PRIMARY or SECONDARY", field="lineOrderType",
                          value=str(line))
        return line.upper()

    @staticmethod
    def _rule_type(rule_type: object, field: str = "diversionRuleType") -> str:
        if not isinstance(rule_type, str) or rule_type not in RULE_TYPES:
            raise Invalid(f"{field}.not.valid", f"{field} is one of {', '.join(RULE_TYPES)}", field=field,
                          value=str(rule_type))
        return rule_type

    def _settings(self, user: dict[str, Any], line: str) -> dict[str, Any]:
        if line == "PRIMARY":
            endpoint = self._extension(user)
            if endpoint is None:
                raise NotFound("line.does.not.exist", "the user has no extension (PRIMARY line)",
                               field="lineOrderType", value=line)
            return {key: self.engine.settings(endpoint).get(key) for key in FORWARD_KEYS}
        if not user.get("mobile"):
            raise NotFound("line.does.not.exist", "the user has no mobile number (SECONDARY line)",
                           field="lineOrderType", value=line)
        doc = self.rt.state.get(MOBILE, user["userId"]) or {}
        return {key: (doc.get("settings") or {}).get(key) for key in FORWARD_KEYS}

    def _line_view(self, user: dict[str, Any], line: str) -> dict[str, Any]:
        number = str(user.get("extension") if line == "PRIMARY" else user.get("mobile"))
        return {"lineNumber": number, "lineOrderType": line,
                "lineType": "OFFICE_FIXED" if line == "PRIMARY" else "OFFICE_MOBILE",
                "userDiversionRules": rules_of(self._settings(user, line))}

    def _lines(self, user: dict[str, Any]) -> list[str]:
        return [line for line in LINES if (user.get("extension") if line == "PRIMARY" else user.get("mobile"))]

    def _document(self, user: dict[str, Any], lines: list[str]) -> dict[str, Any]:
        account = self.rt.state.get("account", user["accountId"]) or {}
        return {"user": {"domain": account.get("domain", ""), "userid": str(user.get("email", "")).split("@")[0]},
                "userDiversionLineRules": [self._line_view(user, line) for line in lines]}

    # ================================================================== rules
    def rules(self, actor: Principal, account_id: str, user_id: str, line: str | None = None) -> dict[str, Any]:
        user = self._user(actor, account_id, user_id)
        return self._document(user, [self._line(line)] if line is not None else self._lines(user))

    def rule(self, actor: Principal, account_id: str, user_id: str, line: str, rule_type: str) -> dict[str, Any]:
        user = self._user(actor, account_id, user_id)
        line, rule_type = self._line(line), self._rule_type(rule_type)
        number = rule_number(self._settings(user, line), rule_type)
        return {"lineOrderType": line, **({"phoneNumber": number} if number else {}),
                "diversionRoutingRulesType": rule_type}

    def _changes(self, rules: object, field: str = "userDiversionRules") -> dict[str, Any]:
        """``[{phoneNumber, diversionRoutingRulesType}]`` → settings changes (no number, or NONE: cleared)."""
        if not isinstance(rules, list):
            raise Invalid(f"{field}.not.valid", f"{field} is a list", field=field)
        changes: dict[str, Any] = {}
        for rule in rules:
            if not isinstance(rule, dict):
                raise Invalid(f"{field}.not.valid", "a rule is {phoneNumber, diversionRoutingRulesType}", field=field)
            kind = rule.get("diversionRoutingRulesType")
            if kind == "NONE":
                continue
            kind = self._rule_type(kind, "diversionRoutingRulesType")
            number = self._number(rule.get("phoneNumber"))
            for part in PARTS[kind]:
                changes[part] = number
        return changes

    @staticmethod
    def _number(value: object, field: str = "phoneNumber") -> str | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str) or not is_dialable(value.strip()):
            raise Invalid(f"{field}.not.valid", f"{field} is a dialable number", field=field, value=str(value))
        return value.strip()

    def _save(self, uow: UnitOfWork, user: dict[str, Any], line: str, changes: dict[str, Any]) -> None:
        self._settings(user, line)   # the line exists
        if not changes:
            return
        if line == "PRIMARY":
            endpoint = self._extension(user)
            assert endpoint is not None
            self.engine.save_settings(uow, endpoint, changes)
            return
        doc = dict(self.rt.state.get(MOBILE, user["userId"]) or {"userId": user["userId"],
                                                                  "accountId": user["accountId"], "settings": {}})
        doc["settings"] = {**doc.get("settings", {}), **changes}
        uow.put(MOBILE, user["userId"], doc)
        uow.emit("diversion.updated", user["accountId"], f"/users/{user['userId']}/diversion",
                 {"userId": user["userId"], "line": line}, self.rt.now_iso())

    async def set_rules(self, actor: Principal, account_id: str, user_id: str, body: object,
                        line: str | None = None) -> dict[str, Any]:
        """``{userDiversionLineRules: [{lineOrderType, userDiversionRules: [...]}]}``: the rules listed are set
        (a rule without a number is cleared), the others kept. ``line``: the path's line, for entries naming
        none (and no other)."""
        entries = (body or {}).get("userDiversionLineRules") if isinstance(body, dict) else None
        if not isinstance(entries, list) or not entries:
            raise Invalid("userDiversionLineRules.required", "userDiversionLineRules lists the lines' rules",
                          field="userDiversionLineRules")
        fixed = self._line(line) if line is not None else None
        plan: list[tuple[str, dict[str, Any]]] = []
        for entry in entries:
            if not isinstance(entry, dict):
                raise Invalid("userDiversionLineRules.not.valid", "each entry is a line's rules",
                              field="userDiversionLineRules")
            named = entry.get("lineOrderType")
            which = self._line(named) if named is not None else (fixed or "PRIMARY")
            if fixed is not None and which != fixed:
                raise Invalid("lineOrderType.not.valid", f"this path sets the {fixed} line", field="lineOrderType",
                              value=str(named))
            plan.append((which, self._changes(entry.get("userDiversionRules"))))
        async with self.rt.write() as uow:
            user = self._user(actor, account_id, user_id)
            for which, changes in plan:
                self._save(uow, user, which, changes)
        return self.rules(actor, account_id, user_id, line)

    async def set_rule(self, actor: Principal, account_id: str, user_id: str, line: str, rule_type: str,
                       body: dict[str, Any]) -> dict[str, Any]:
        line, rule_type = self._line(line), self._rule_type(rule_type)
        if body.get("lineOrderType") not in (None, line):
            raise Invalid("lineOrderType.not.valid", f"this path sets the {line} line", field="lineOrderType",
                          value=str(body.get("lineOrderType")))
        kind = body.get("diversionRoutingRulesType")
        if kind not in (None, "NONE", rule_type):
            raise Invalid("diversionRoutingRulesType.not.valid", f"this path sets {rule_type}",
                          field="diversionRoutingRulesType", value=str(kind))
        number = None if kind == "NONE" else self._number(body.get("phoneNumber"))
        async with self.rt.write() as uow:
            user = self._user(actor, account_id, user_id)
            self._save(uow, user, line, {part: number for part in PARTS[rule_type]})
        return self.rule(actor, account_id, user_id, line, rule_type)

    async def clear(self, actor: Principal, account_id: str, user_id: str, line: str | None = None,
                    rule_type: str | None = None) -> None:
        """Delete a rule type of a line, a line's rules, or (no line) every rule of every line."""
        if line is not None:
            line = self._line(line)
        parts = PARTS[self._rule_type(rule_type)] if rule_type is not None else FORWARD_KEYS
        async with self.rt.write() as uow:
            user = self._user(actor, account_id, user_id)
            for which in [line] if line is not None else self._lines(user):
                self._save(uow, user, which, {part: None for part in parts})

    # ================================================================== the active diversion number
    def number(self, actor: Principal, account_id: str, user_id: str) -> dict[str, Any]:
        user = self._user(actor, account_id, user_id)
        endpoint = self._primary(user)
        settings = self.engine.settings(endpoint)
        return {"diversion-number": settings["forwardActivity"] or "",
                "activityScoped": bool(settings["forwardActivityScoped"])}

    def _primary(self, user: dict[str, Any]) -> Endpoint:
        endpoint = self._extension(user)
        if endpoint is None:
            raise NotFound("line.does.not.exist", "the user has no extension", field="userId",
                           value=str(user.get("email", "")))
        return endpoint

    async def set_number(self, actor: Principal, account_id: str, user_id: str, phone_number: object,
                         activity_scoped: bool) -> dict[str, Any]:
        """The active diversion number (empty: none). ``activity_scoped``: cleared on the next activity change."""
        if phone_number is None:
            raise Invalid("phoneNumber.required", "phoneNumber is the diversion number (empty: none)",
                          field="phoneNumber")
        number = self._number(phone_number)
        async with self.rt.write() as uow:
            user = self._user(actor, account_id, user_id)
            endpoint = self._primary(user)
            self.engine.save_settings(uow, endpoint, {"forwardActivity": number,
                                                      "forwardActivityScoped": bool(number and activity_scoped)})
        return self.number(actor, account_id, user_id)

    # ================================================================== activity diversions
    def mapping(self, actor: Principal, account_id: str, user_id: str) -> list[dict[str, str]]:
        self._user(actor, account_id, user_id)
        mapping = (self.rt.state.get(MAPPING, user_id) or {}).get("mapping") or {}
        return [{"activityId": key, "phoneNumber": value} for key, value in sorted(mapping.items())]

    def mapped(self, actor: Principal, account_id: str, user_id: str, activity_id: str) -> dict[str, str]:
        for item in self.mapping(actor, account_id, user_id):
            if item["activityId"] == activity_id:
                return item
        raise NotFound("activityDiversion.does.not.exist", f"no diversion for activity {activity_id}",
                       field="activityId", value=activity_id)

    def _valid_mapping(self, user: dict[str, Any], activity_id: object, number: object) -> tuple[str, str]:
        account = self.rt.state.get("account", user["accountId"])
        if not isinstance(activity_id, str) or activities.find(account, activity_id) is None:
            raise Invalid("activityId.not.valid", f"{activity_id} is not an activity of the organisation",
                          field="activityId", value=str(activity_id))
        phone = self._number(number)
        if phone is None:
            raise Invalid("phoneNumber.required", "an activity diversion needs a phoneNumber", field="phoneNumber")
        endpoint = self._primary(user)
        self.engine.check_forwards(endpoint, {"forwardActivity": phone})
        return activity_id, phone

    async def set_mapping(self, actor: Principal, account_id: str, user_id: str, items: object,
                          replace: bool) -> list[dict[str, str]]:
        """``replace``: the whole mapping; else add/overwrite the items given."""
        if not isinstance(items, list):
            raise Invalid("diversion-mapping.required", "diversion-mapping lists {activityId, phoneNumber}",
                          field="diversion-mapping")
        async with self.rt.write() as uow:
            user = self._user(actor, account_id, user_id)
            pairs = []
            for item in items:
                if not isinstance(item, dict):
                    raise Invalid("diversion-mapping.not.valid", "each item is {activityId, phoneNumber}",
                                  field="diversion-mapping")
                pairs.append(self._valid_mapping(user, item.get("activityId"), item.get("phoneNumber")))
            current = {} if replace else dict((self.rt.state.get(MAPPING, user_id) or {}).get("mapping") or {})
            current.update(dict(pairs))
            self._save_mapping(uow, user, current)
        return self.mapping(actor, account_id, user_id)

    async def delete_mapping(self, actor: Principal, account_id: str, user_id: str, activity_id: str) -> None:
        async with self.rt.write() as uow:
            self.mapped(actor, account_id, user_id, activity_id)
            user = self._user(actor, account_id, user_id)
            current = dict((self.rt.state.get(MAPPING, user_id) or {}).get("mapping") or {})
            current.pop(activity_id, None)
            self._save_mapping(uow, user, current)

    def _save_mapping(self, uow: UnitOfWork, user: dict[str, Any], mapping: dict[str, str]) -> None:
        uow.put(MAPPING, user["userId"], {"userId": user["userId"], "accountId": user["accountId"],
                                          "mapping": mapping})
        uow.emit("diversion.updated", user["accountId"], f"/users/{user['userId']}/activitydiversion",
                 {"userId": user["userId"]}, self.rt.now_iso())
        # The current activity's diversion follows a new mapping at once (as an activity change would).
        current = self.presence.activity_of(user)
        self._apply(uow, user, current, mapping, {})

    # ================================================================== following the activity
    def _on_activity(self, uow: UnitOfWork, user: dict[str, Any], _before: str, after: str,
                     options: dict[str, Any]) -> None:
        mapping = (self.rt.state.get(MAPPING, user["userId"]) or {}).get("mapping") or {}
        self._apply(uow, user, after, mapping, options, changed=True)

    def _apply(self, uow: UnitOfWork, user: dict[str, Any], activity: str, mapping: dict[str, str],
               options: dict[str, Any], changed: bool = False) -> None:
        endpoint = self._extension(user)
        if endpoint is None:
            return
        settings = self.engine.settings(endpoint)
        current, scoped = settings["forwardActivity"], bool(settings["forwardActivityScoped"])
        wanted = decide(current, scoped, mapping.get(activity), options, changed)
        if wanted is None or (current, scoped) == wanted:
            return
        try:
            self.engine.save_settings(uow, endpoint, {"forwardActivity": wanted[0],
                                                      "forwardActivityScoped": wanted[1]})
        except Invalid:
            return   # the mapped number no longer reaches anything: the activity changes, calls ring as before
