"""Agent state: logged in or out, ready or not ready (with a reason code), skills, per-queue presence,
idle-since (for longest-idle distribution), wrap-up and the hot-desk extension. Stored as ``agent`` documents:
one per user and media. The Voice agent's key is ``account:user`` (what the PBX's ACD has always used); the
other media's is ``account:user:Media``."""
from __future__ import annotations

from typing import Any

from callyard.core.errors import Conflict, Forbidden, Invalid, NotFound
from callyard.core.principal import Principal
from callyard.core.runtime import Runtime
from callyard.core.state import UnitOfWork


def check_agent_change(skills: dict[str, int] | None, presence: dict[str, bool] | None) -> None:
    """Reject malformed skills or presence before anything changes."""
    if skills is not None and (not isinstance(skills, dict) or not all(
            isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 100
            for k, v in skills.items())):
        raise Invalid("InvalidSkills", "skills map a skill name to a level from 0 to 100")
    if presence is not None and (not isinstance(presence, dict) or not all(
            isinstance(v, bool) for v in presence.values())):
        raise Invalid("InvalidPresence", "presence maps a groupId to true or false")


class Agents:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    def agent(self, account_id: str, user_id: str, media: str = "Voice") -> dict[str, Any]:
        """The agent document of a user for one media (a logged-out default when there is none yet)."""
        key = f"{account_id}:{user_id}" if media == "Voice" else f"{account_id}:{user_id}:{media}"
        doc = self.rt.state.get("agent", key)
        return doc or {"agentKey": key, "accountId": account_id, "userId": user_id, "media": media,
                       "loggedIn": False, "ready": False, "reason": None, "skills": {}, "presence": {},
                       "idleSince": None, "wrapUntil": None, "changedOn": None}

    def save(self, uow: UnitOfWork, doc: dict[str, Any]) -> dict[str, Any]:
        now = self.rt.now_iso()
        doc = {**doc, "changedOn": now}
        uow.put("agent", doc["agentKey"], doc)
        uow.emit("agent.updated", doc["accountId"], f"/agents/{doc['userId']}", doc, now)
        return doc

    def target(self, actor: Principal, account_id: str, user_id: str | None) -> str:
        """The user whose agent state ``actor`` changes (``None``/``"me"``: the actor)."""
        user_id = user_id if user_id not in (None, "me") else actor.user_id
        if not user_id:
            raise Invalid("UserRequired", "name the agent's userId")
        user = self.rt.state.get("user", user_id)
        if user is None or user["accountId"] != account_id:
            raise NotFound("AgentNotFound", f"agent {user_id} was not found")
        if user_id != actor.user_id and not (actor.at_least("ACCOUNT_ADMIN") or actor.kind in ("client", "control")):
            raise Forbidden("InsufficientPermissions", "only an administrator changes another agent's state")
        return user_id

    def changed(self, agent: dict[str, Any], *, logged_in: bool | None, ready: bool | None, reason: str | None,
                skills: dict[str, int] | None, presence: dict[str, bool] | None) -> dict[str, Any]:
        """``agent`` after a login/logout, ready/not ready, skills or presence change (a new document)."""
        agent = dict(agent)
        now = self.rt.now_iso()
        if logged_in is not None:
            if logged_in and not agent["loggedIn"]:
                agent.update(loggedIn=True, ready=True if ready is None else ready, reason=None,
                             idleSince=now, lastLogin=now, wrapUntil=None)
                if (agent.get("firstLoginToday") or "")[:10] != now[:10]:
                    agent["firstLoginToday"] = now
            elif not logged_in:
                agent.update(loggedIn=False, ready=False, reason=None, lastLogout=now, wrapUntil=None,
                             hotDeskExtension=None)
        if ready is not None and agent["loggedIn"]:
            if ready and not agent["ready"]:
                agent["idleSince"] = now
            agent.update(ready=ready, reason=None if ready else reason)
        elif ready is not None and not agent["loggedIn"] and logged_in is None:
            raise Conflict("AgentLoggedOut", "the agent is logged out; log in first")
        if skills is not None:
            agent["skills"] = skills
        if presence is not None:
            agent["presence"] = {**agent["presence"], **presence}
        return agent
