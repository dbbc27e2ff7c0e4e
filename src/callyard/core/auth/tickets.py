"""API tickets: the credential of the UC User API (seed 003, "User Tickets API").

A ticket belongs to one user, names the external APIs it may call (``allowedApis``), expires on the twin's
clock and can be revoked by name. Its token is ``<ticketId>.<opaque>`` like the seed's ``2343.ZSDjndiJSDjksHj``:
the number finds the ticket, the opaque part is a secret of which only a hash is kept.

Rules that live here, not in a façade:
* who may create and revoke a user's tickets (the user with their password; an ACCOUNT_ADMIN of the user's
  account — the seed's "superuser ticket"; the user's own ticket may revoke itself and its siblings),
* which tickets are valid (exists, not expired, not revoked, user and account still active),
* which user a ticket may act for (its own user; an ACCOUNT_ADMIN's ticket any user of its account when the
  operation allows it; never another account),
* licences: CTI needs the user's Cloud CTI API or Call Control API licence (``ucLicences`` on the user).
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable

from callyard.core.auth.passwords import verify_password_off_loop
from callyard.core.directory.service import Directory
from callyard.core.errors import Forbidden, Invalid, NotFound, Unauthorized
from callyard.core.principal import Principal, role_at_least
from callyard.core.runtime import Runtime

KIND = "uc_ticket"
# The external API groups a ticket may name. The seed names CALL_CONTROL, CALLS and USER; the others follow
# its wording ("Queue statistics", "Contact search", "Send SMS").
APIS = ("CALL_CONTROL", "CALLS", "USER", "QUEUE_STATISTICS", "CONTACT_SEARCH", "SMS")
PLATFORMS = ("android", "iphone", "other")
CTI_LICENCES = ("CLOUD_CTI_API", "CALL_CONTROL_API")
SUPERVISOR_LICENCE = "SUPERVISOR"
DEFAULT_TTL_SECONDS = 365 * 24 * 3600   # "valid for a year" (Dstny); a request may ask for less or more
MAX_NAME = 64
SWEEP_SECONDS = 3600
RETENTION_SECONDS = 24 * 3600            # an expired ticket is kept a day (its use answers ticket.expired)
VERIFIED_CACHE = 1024                    # tokens whose grant is remembered (each revalidated, see ``verify``)


@dataclass(frozen=True)
class Grant:
    """A verified ticket: the ticket document, its user and the principal the core acts as."""
    ticket: dict[str, Any]
    user: dict[str, Any]
    principal: Principal

    @property
    def is_admin(self) -> bool:
        return role_at_least(self.user.get("role", "USER"), "ACCOUNT_ADMIN")


def principal_of(user: dict[str, Any], ticket_id: str | None = None) -> Principal:
    return Principal(principal_id=user["userId"], account_id=user["accountId"], role=user.get("role", "USER"),
                     user_id=user["userId"], kind="user", claims={"ticketId": ticket_id} if ticket_id else {})


def has_cti_licence(user: dict[str, Any]) -> bool:
    return any(licence in CTI_LICENCES for licence in user.get("ucLicences") or ())


def has_licence(user: dict[str, Any], licence: str) -> bool:
    return licence in (user.get("ucLicences") or ())


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


Stamp = tuple[int, ...]


class Tickets:
    def __init__(self, runtime: Runtime, directory: Directory) -> None:
        self.rt = runtime
        self.directory = directory
        # token -> (stamp of the ticket and user documents, the ticket's expiry, the grant): a grant verified
        # while no ticket or user has changed since (``State.generation``) is the same grant, but for expiry.
        self._grants: dict[str, tuple[Stamp, datetime, Grant]] = {}
        # (id of the grant, api, domain, user, others, licence) -> (stamp of accounts, users and tickets, the
        # grant, the target); the entry holds the grant, so its id names no other while the entry lives.
        self._targets: dict[tuple[Any, ...], tuple[Stamp, Grant, dict[str, Any]]] = {}


    # ------------------------------------------------------------------ addressing
    def user_at(self, domain: str, user_ref: str) -> dict[str, Any]:
        """The user ``{domain}/{user}`` names (the local part of the login, or the whole login)."""
        account = self.directory.account_by_domain(domain)
        user = None if account is None else self.directory.user_by_login(account["accountId"], user_ref)
        if user is None:
            raise NotFound("user.does.not.exist", f"there is no user {user_ref} in domain {domain}",
                           field="user", value=f"{user_ref}@{domain}" if "@" not in user_ref else user_ref)
        return user

    # ------------------------------------------------------------------ creating and revoking
    async def password_user(self, domain: str, user_ref: str, login: str, password: str) -> dict[str, Any]:
        """HTTP Basic: ``login`` (local part or whole login) and ``password`` of the user the path names. The
        password is checked in a worker thread (passwords.verify_password_off_loop); the user is looked up again
        afterwards, so a password changed meanwhile is not honoured."""
        account = self.directory.account_by_domain(domain)
        user = None if account is None else self.directory.user_by_login(account["accountId"], login)
        stored = None if user is None else user.get("passwordHash")
        if user is None or not await verify_password_off_loop(password, stored):
            raise Unauthorized("authentication.failed", "the login or password is not valid")
        user = self.directory.user_by_login(user["accountId"], login)
        if user is None or user.get("passwordHash") != stored:
            raise Unauthorized("authentication.failed", "the login or password is not valid")
        self._usable(user)
        target = self.user_at(domain, user_ref)
        if target["userId"] != user["userId"]:
            raise Forbidden("access.denied", "a password creates tickets for its own user only")
        return user

    def may_manage(self, actor: dict[str, Any], target: dict[str, Any]) -> None:
        """The actor (a ticket's user) may create or revoke the target's tickets: itself, or an ACCOUNT_ADMIN
        of the target's account."""
        if actor["userId"] == target["userId"]:
            return
        if actor["accountId"] == target["accountId"] and role_at_least(actor.get("role", "USER"), "ACCOUNT_ADMIN"):
            return
        raise Forbidden("access.denied", "only the user or an administrator of the user's organisation "
                                         "manages the user's tickets")

    async def create(self, actor: dict[str, Any], target: dict[str, Any], *, apis: Iterable[str], platform: str,
                     version: str | None = None, number: str | None = None, name: str | None = None,
                     expires: int | None = None, device_name: str | None = None,
                     by_ticket: Grant | None = None) -> tuple[dict[str, Any], str]:
        """A new ticket for ``target``, created by ``actor``: authenticated by the password (``by_ticket``
        None) or by a ticket, which must be a superuser's (an ACCOUNT_ADMIN of the target's organisation): a
        ticket never mints a wider one for its own user. Returns the ticket document and its token (shown
        once). A ticket with the same name replaces the user's old one."""
        if by_ticket is not None and not by_ticket.is_admin:
            raise Forbidden("superuser.ticket.required", "a ticket creates tickets only when it is a superuser's "
                                                         "(an administrator of the organisation)")
        self.may_manage(actor, target)
        self._usable(target)
        wanted = list(dict.fromkeys(apis))
        if not wanted:
            raise Invalid("api.required", "name at least one API (api=CALL_CONTROL&api=USER…)", field="api")
        for api in wanted:
            if api not in APIS:
                raise Invalid("api.not.valid", f"{api} is not an external API ({', '.join(APIS)})", field="api",
                              value=api)
        if platform not in PLATFORMS:
            raise Invalid("platform.not.valid", f"platform is one of {', '.join(PLATFORMS)}", field="platform",
                          value=platform)
        if platform != "other" and not version:
            raise Invalid("ver.required", "ver is required unless platform is other", field="ver")
        if number is not None and number not in {target.get("mobile")} - {None}:
            raise Invalid("number.not.mobile.of.user", "number must be a mobile number of the user",
                          field="number", value=number)
        if name is not None and (not name.strip() or len(name) > MAX_NAME):
            raise Invalid("name.not.valid", f"name has 1 to {MAX_NAME} characters", field="name", value=name)
        if expires is not None and expires <= 0:
            raise Invalid("expires.not.valid", "expires is a positive number of seconds", field="expires",
                          value=str(expires))
        ticket_name = name or "_".join(wanted)
        now = self.rt.clock.now()
        expires_on = now + timedelta(seconds=expires if expires is not None else DEFAULT_TTL_SECONDS)
        async with self.rt.write() as uow:
            for old in self._named(target["userId"], ticket_name):
                uow.delete(KIND, old["ticketId"])
                uow.emit("uc.ticket.revoked", old["accountId"], f"/uc/tickets/{old['ticketId']}",
                         _public(old), self.rt.now_iso())
            ticket_id = self._new_id()
            token = f"{ticket_id}.{self.rt.ids.secret()}"
            doc = {"ticketId": ticket_id, "accountId": target["accountId"], "userId": target["userId"],
                   "name": ticket_name, "allowedApis": wanted, "platform": platform, "ver": version,
                   "number": number, "deviceDisplayName": device_name, "createdBy": actor["userId"],
                   "createdOn": self.rt.now_iso(), "expiresAt": expires_on.timestamp(),
                   "tokenHash": _digest(token), "tokenVersion": int(target.get("tokenVersion") or 0)}
            uow.put(KIND, ticket_id, doc)
            uow.emit("uc.ticket.created", target["accountId"], f"/uc/tickets/{ticket_id}", _public(doc),
                     self.rt.now_iso())
        return doc, token

    async def revoke(self, actor: dict[str, Any], target: dict[str, Any], name: str) -> None:
        self.may_manage(actor, target)
        found = self._named(target["userId"], name)
        if not found:
            raise NotFound("ticket.does.not.exist", f"the user has no ticket named {name}", field="ticketName",
                           value=name)
        async with self.rt.write() as uow:
            for doc in found:
                uow.delete(KIND, doc["ticketId"])
                uow.emit("uc.ticket.revoked", doc["accountId"], f"/uc/tickets/{doc['ticketId']}", _public(doc),
                         self.rt.now_iso())

    def _named(self, user_id: str, name: str) -> list[dict[str, Any]]:
        return [t for t in self.rt.state.all(KIND) if t["userId"] == user_id and t["name"] == name]

    def _new_id(self) -> str:
        while True:
            candidate = self.rt.ids.digits(6)
            if self.rt.state.get(KIND, candidate) is None:
                return candidate

    # ------------------------------------------------------------------ retention
    def keep_tidy(self, scheduler: Any) -> None:
        """Sweep every ``SWEEP_SECONDS`` of the twin's clock (call again after the scheduler was cleared)."""
        async def sweep() -> None:
            try:
                await self.purge()
            finally:
                scheduler.after(SWEEP_SECONDS, sweep, "API ticket retention")
        scheduler.after(SWEEP_SECONDS, sweep, "API ticket retention")

    async def purge(self) -> int:
        """Delete the tickets that expired more than ``RETENTION_SECONDS`` ago. Returns how many went."""
        cutoff = self.rt.clock.now().timestamp() - RETENTION_SECONDS
        gone = [t for t in self.rt.state.all(KIND) if t["expiresAt"] < cutoff]
        if gone:
            async with self.rt.write() as uow:
                for doc in gone:
                    if self.rt.state.get(KIND, doc["ticketId"]) is not None:
                        uow.delete(KIND, doc["ticketId"])
                        uow.emit("uc.ticket.expired", doc["accountId"], f"/uc/tickets/{doc['ticketId']}",
                                 _public(doc), self.rt.now_iso())
        return len(gone)

    # ------------------------------------------------------------------ verifying
    def verify(self, token: str) -> Grant:
        """The grant a presented token carries, or 401.

        A token verified once is remembered with the generations of the ticket and user documents it was
        checked against: while neither kind has changed (no ticket created, revoked or purged, no user
        changed: ``State.generation``), every check but expiry would answer the same, so only expiry is
        checked again, against the twin's clock. Anything else is verified in full."""
        generation = self.rt.state.generation
        stamp = (generation(KIND), generation("user"))
        cached = self._grants.get(token)
        if cached is not None and cached[0] == stamp:
            if self.rt.clock.now() >= cached[1]:
                raise Unauthorized("ticket.expired", "the API ticket has expired")
            return cached[2]
        grant, expiry = self._verify(token)
        if len(self._grants) >= VERIFIED_CACHE:
            self._grants.pop(next(iter(self._grants)))
        self._grants[token] = (stamp, expiry, grant)
        return grant

    def _verify(self, token: str) -> tuple[Grant, datetime]:
        ticket_id, _, secret = token.partition(".")
        doc = self.rt.state.get(KIND, ticket_id) if secret else None
        if doc is None or not hmac.compare_digest(doc["tokenHash"], _digest(token)):
            raise Unauthorized("ticket.not.valid", "the API ticket is not valid (unknown or revoked)")
        now = self.rt.clock.now()
        expiry = datetime.fromtimestamp(doc["expiresAt"], now.tzinfo)
        if now >= expiry:
            raise Unauthorized("ticket.expired", "the API ticket has expired")
        user = self.rt.state.get("user", doc["userId"])
        if user is None:
            raise Unauthorized("ticket.not.valid", "the ticket's user no longer exists")
        self._usable(user, status=Unauthorized)
        if int(doc.get("tokenVersion") or 0) < int(user.get("tokenVersion") or 0):
            raise Unauthorized("ticket.not.valid", "the API ticket was revoked (the user's password changed)")
        return Grant(ticket=doc, user=user, principal=principal_of(user, doc["ticketId"])), expiry

    def authorize(self, grant: Grant, api: str, domain: str, user_ref: str, *,
                  others: Callable[[Grant, dict[str, Any]], bool] | None = None,
                  licence: Callable[[dict[str, Any]], bool] | None = None) -> dict[str, Any]:
        """The user ``{domain}/{user_ref}`` the grant may act on through ``api``: the ticket must allow the API;
        the domain must be the ticket user's own (another organisation is never visible); another user of it
        only when ``others(grant, target)`` says so (default: an ACCOUNT_ADMIN); ``licence(target)`` when given
        must hold for the user acted on.

        A target found is remembered for the same grant object (``verify`` hands out one per ticket while it
        is unchanged) and arguments while no account, user or ticket has changed (``licence`` reads the user
        document only); a refusal is not, nor an answer that ``others`` decides."""
        if others is not None:
            return self._authorize(grant, api, domain, user_ref, others=others, licence=licence)
        key = (id(grant), api, domain, user_ref, others, licence)
        generation = self.rt.state.generation
        stamp = (generation("account"), generation("user"), generation(KIND))
        cached = self._targets.get(key)
        if cached is not None and cached[0] == stamp and cached[1] is grant:
            return cached[2]
        target = self._authorize(grant, api, domain, user_ref, others=others, licence=licence)
        if len(self._targets) >= VERIFIED_CACHE:
            self._targets.pop(next(iter(self._targets)))
        self._targets[key] = (stamp, grant, target)
        return target

    def _authorize(self, grant: Grant, api: str, domain: str, user_ref: str, *,
                   others: Callable[[Grant, dict[str, Any]], bool] | None = None,
                   licence: Callable[[dict[str, Any]], bool] | None = None) -> dict[str, Any]:
        self.require_api(grant, api)
        account = self.rt.state.get("account", grant.user["accountId"])
        if account is None or str(account.get("domain", "")).lower() != domain.lower():
            raise Forbidden("access.denied", "the ticket does not give access to that domain", field="domain",
                            value=domain)
        target = self.user_at(domain, user_ref)
        if target["userId"] != grant.user["userId"]:
            allowed = others(grant, target) if others is not None else grant.is_admin
            if not allowed:
                raise Forbidden("access.denied", "the ticket acts for its own user only", field="user",
                                value=user_ref)
        self._licensed(target, licence)
        return target

    def own_user(self, grant: Grant, api: str, *,
                 licence: Callable[[dict[str, Any]], bool] | None = None) -> dict[str, Any]:
        """The ticket's own user, for operations whose path names no user."""
        self.require_api(grant, api)
        self._licensed(grant.user, licence)
        return grant.user

    @staticmethod
    def _licensed(user: dict[str, Any], licence: Callable[[dict[str, Any]], bool] | None) -> None:
        if licence is not None and not licence(user):
            raise Forbidden("license.missing", "the user has no licence for this API", field="user",
                            value=str(user.get("email", "")))

    @staticmethod
    def require_api(grant: Grant, api: str) -> None:
        if api not in grant.ticket["allowedApis"]:
            raise Forbidden("api.not.allowed", f"the ticket does not allow the {api} API", field="api", value=api)

    @staticmethod
    def _usable(user: dict[str, Any], status: type[Forbidden] | type[Unauthorized] = Forbidden) -> None:
        if not user.get("active", True):
            raise status("user.not.active", "the user is not active")


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    """A ticket without its token hash (events and views)."""
    return {k: v for k, v in doc.items() if k != "tokenHash"}


def expires_at(doc: dict[str, Any]) -> float:
    return float(doc["expiresAt"])
