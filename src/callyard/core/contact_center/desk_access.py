"""Who is asking the contact center's ``Desk`` and what they may see and change (the security roles):

* an employee with the ``Supervisor`` role sees and changes every employee, agent and queue of the account;
* an ``Agent`` sees themselves, their own agents and agent groups and the queues those groups answer, and
  changes only their own state;
* a registered client without impersonation (a wallboard, a CRM) sees everything and changes nothing;
  ``me`` is refused for it ("third party requests are denied").

``DeskBase`` holds the contact center's parts and these checks; each part of the ``Desk`` builds on it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from callyard.core.contact_center.model import SUPERVISOR
from callyard.core.errors import Forbidden
from callyard.core.principal import Principal

if TYPE_CHECKING:
    from callyard.core.contact_center.service import ContactCenter


@dataclass(frozen=True)
class Caller:
    principal: Principal
    account_id: str
    employee: dict[str, Any] | None
    supervisor: bool      # sees and changes everyone
    third_party: bool     # a client without impersonation: sees everyone, changes nothing

    @property
    def sees_all(self) -> bool:
        return self.supervisor or self.third_party


class DeskBase:
    def __init__(self, center: "ContactCenter") -> None:
        self.center = center
        self.config = center.config
        self.states = center.states
        self.engine = center.engine
        self.rt = center.rt
        self.started_on = center.rt.now_iso()

    # ================================================================== who is asking
    def caller(self, actor: Principal) -> Caller:
        if actor.kind == "client":
            return Caller(actor, actor.account_id, None, False, True)
        if actor.kind == "control":
            return Caller(actor, actor.account_id, None, True, False)
        employee = self.config.employee_of_user(actor.account_id, actor.user_id)
        if employee is None:
            raise Forbidden("NotAnEmployee", "the caller is not an employee of the contact center")
        return Caller(actor, actor.account_id, employee, employee["securityRole"] == SUPERVISOR, False)

    def _employee(self, caller: Caller, ref: str) -> dict[str, Any]:
        if ref.lower() == "me":
            if caller.employee is None:
                raise Forbidden("ThirdPartyDenied", "'me' needs an employee's token (third party requests are "
                                                    "denied; impersonate an employee)")
            return caller.employee
        return self.config.employee(caller.account_id, ref)

    def _visible_employee(self, caller: Caller, ref: str) -> dict[str, Any]:
        employee = self._employee(caller, ref)
        if not caller.sees_all and employee["id"] != (caller.employee or {}).get("id"):
            raise Forbidden("InsufficientPermissions", "agents may view only their own real-time information")
        return employee

    def _changeable_employee(self, caller: Caller, ref: str) -> dict[str, Any]:
        employee = self._employee(caller, ref)
        if caller.third_party:
            raise Forbidden("ThirdPartyDenied", "a client may not change an employee; impersonate one")
        if not caller.supervisor and employee["id"] != (caller.employee or {}).get("id"):
            raise Forbidden("InsufficientPermissions", "changing another employee's state needs the supervisor role")
        return employee

    def _visible_queues(self, caller: Caller) -> list[dict[str, Any]]:
        if caller.sees_all:
            return self.config.queues(caller.account_id)
        assert caller.employee is not None
        return self.config.queues_of(caller.employee)

    def _queue(self, caller: Caller, ref: str) -> dict[str, Any]:
        queue = self.config.queue(caller.account_id, ref)
        if queue["id"] not in {q["id"] for q in self._visible_queues(caller)}:
            raise Forbidden("InsufficientPermissions", f"queue {ref} is not one of the caller's queues")
        return queue
