"""Directory operations: accounts, users, groups, contacts, photos and welcome mail.

Every mutating method runs in one write transaction and emits one event per changed resource. Documents
are the core's model; each API family renders them in its own wire shape.
"""
from __future__ import annotations

import copy
from typing import Any

from callyard.core.auth.passwords import hash_password
from callyard.core.directory import domains, validation
from callyard.core.directory.access import Access
from callyard.core.directory.indexes import DirectoryIndexes
from callyard.core.directory.photos import render_photo
from callyard.core.errors import Conflict, Forbidden, Invalid, NotFound
from callyard.core.principal import ROLES, Principal, role_at_least
from callyard.core.runtime import Runtime
from callyard.core.state import UnitOfWork

USER_FIELDS = {"email", "name", "firstName", "lastName", "role", "extension", "mobile", "phone", "loginId",
               "languageCode", "siteId", "displayName", "password", "userId", "uniqueUserId", "description",
               "title", "department", "active"}
SELF_EDITABLE = {"name", "firstName", "lastName", "mobile", "phone", "languageCode", "displayName", "password",
                 "title", "department"}
ACCOUNT_EDITABLE = {"name", "languageCode", "location", "policy", "accessTokenExpiryHours",
                    "refreshTokenExpiryHours", "userLimit", "active", "contacts", "description"}
GROUP_VISIBILITY = ("PUBLIC", "PRIVATE")
GROUP_TYPES = ("USER", "APP", "HUNT", "ACD", "PAGING", "PICKUP")
MEMBER_STATUS = ("ACCEPTED", "INVITED", "DECLINED")
CONTACT_FIELDS = {"name", "firstName", "lastName", "email", "phone", "mobile", "company", "contactType",
                  "title", "description"}


class Directory:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.access = Access(runtime.state)
        self.indexes = DirectoryIndexes(runtime.state)

    # ------------------------------------------------------------------ look-ups (rules in directory/indexes.py)
    def user_by_login(self, account_id: str, login: str) -> dict[str, Any] | None:
        """The user of the account that ``login`` names: the whole e-mail address or its local part, in any
        case (an ambiguous local part names no one)."""
        return self.indexes.user_by_login(account_id, login)

    def account_named(self, username: Any = None, account_ref: Any = None) -> str | None:
        """The account a sign-in names, before anyone is authenticated: ``account_ref`` (id or number), else
        the domain of an e-mail-like username; None when it names none (or several)."""
        if isinstance(account_ref, str) and account_ref:
            account = self.access.find_account(account_ref)
            return account["accountId"] if account else None
        if isinstance(username, str) and "@" in username:
            account = self.indexes.account_by_domain(username.rsplit("@", 1)[1].strip().lower())
            return account["accountId"] if account else None
        return None

    def user_by_extension(self, account_id: str, extension: str) -> dict[str, Any] | None:
        return self.indexes.user_by_extension(account_id, extension)

    def account_by_domain(self, domain: str) -> dict[str, Any] | None:
        """The account with that domain (``acme.example``), in any case."""
        return self.indexes.account_by_domain(domain)

    def resolve_user_address(self, address: str) -> dict[str, Any] | None:
        """The user a ``{domain}/{user}`` address names (``acme.example/ada``), or None."""
        return self.indexes.resolve_user_address(address)

    # ------------------------------------------------------------------ helpers
    def _stamp(self, doc: dict[str, Any], actor: Principal, created: bool) -> dict[str, Any]:
        now = self.rt.now_iso()
        if created:
            doc.setdefault("createdOn", now)
            doc.setdefault("createdBy", actor.principal_id)
        doc["modifiedOn"] = now
        doc["modifiedBy"] = actor.principal_id
        return doc

    def _emit(self, uow: UnitOfWork, type_: str, account_id: str | None, subject: str,
              data: dict[str, Any] | None) -> None:
        uow.emit(type_, account_id, subject, _public(data), self.rt.now_iso())

    # ------------------------------------------------------------------ accounts
    def list_accounts(self, actor: Principal) -> list[dict[str, Any]]:
        return self.access.visible_accounts(actor)

    def get_account(self, actor: Principal, ref: str) -> dict[str, Any]:
        return self.access.account(actor, ref)

    async def create_account(self, actor: Principal, fields: dict[str, Any]) -> dict[str, Any]:
        """A partner creates a customer account under itself."""
        self.access.require_role(actor, "PARTNER_ADMIN")
        partner = self.access.find_account(actor.account_id)
        if partner is None or partner.get("type") != "PARTNER":
            raise Forbidden("InsufficientPermissions", "only a partner account can create customer accounts")
        if not isinstance(fields.get("name"), str) or not fields["name"].strip():
            raise Invalid("ValidationError", "name is required")
        async with self.rt.write() as uow:
            account = new_account(self.rt, name=fields["name"].strip(), partner=partner)
            for key in ACCOUNT_EDITABLE & fields.keys():
                account[key] = fields[key] if key != "name" else account["name"]
            self._stamp(account, actor, created=True)
            uow.put("account", account["accountId"], account)
            self._emit(uow, "account.created", account["accountId"], f"/accounts/{account['accountId']}", account)
        return account

    async def update_account(self, actor: Principal, ref: str, fields: dict[str, Any]) -> dict[str, Any]:
        account = self.access.account(actor, ref, "ACCOUNT_ADMIN")
        unknown = set(fields) - ACCOUNT_EDITABLE
        if unknown:
            raise Invalid("ValidationError", f"data should NOT have additional properties: {sorted(unknown)}")
        for key in ("accessTokenExpiryHours", "refreshTokenExpiryHours"):
            if key in fields and not (isinstance(fields[key], (int, float)) and 0 < fields[key] <= 24 * 365):
                raise Invalid("ValidationError", f"{key} must be a positive number of hours")
        if "languageCode" in fields:
            validation.language_code(fields["languageCode"])
        if "policy" in fields:
            if not isinstance(fields["policy"], dict):
                raise Invalid("ValidationError", "policy must be an object")
            fields = dict(fields, policy={**account.get("policy", {}), **fields["policy"]})
        async with self.rt.write() as uow:
            updated = uow.update("account", account["accountId"], **fields)
            self._stamp(updated, actor, created=False)
            self._emit(uow, "account.updated", updated["accountId"], f"/accounts/{updated['accountId']}", updated)
        return updated

    async def delete_account(self, actor: Principal, ref: str) -> dict[str, Any]:
        account = self.access.account(actor, ref, "PARTNER_ADMIN")
        if account["accountId"] == actor.account_id:
            raise Forbidden("InsufficientPermissions", "an account cannot delete itself")
        async with self.rt.write() as uow:
            for kind in ("user", "group", "contact", "application", "mail", "sms"):
                for doc in self.rt.state.all(kind):
                    if doc.get("accountId") == account["accountId"]:
                        self._drop_photo(uow, doc)
                        uow.delete(kind, _doc_id(kind, doc))
            uow.delete("account", account["accountId"])
            self._emit(uow, "account.deleted", account["accountId"], f"/accounts/{account['accountId']}", None)
        return account

    # ------------------------------------------------------------------ users
    def users_of(self, account_id: str) -> list[dict[str, Any]]:
        return [u for u in self.rt.state.all("user") if u["accountId"] == account_id]

    def list_users(self, actor: Principal, account_ref: str | None = None) -> list[dict[str, Any]]:
        account = self.access.account(actor, account_ref or actor.account_id)
        return self.users_of(account["accountId"])

    def get_user(self, actor: Principal, user_id: str, account_ref: str | None = None) -> dict[str, Any]:
        account = self.access.account(actor, account_ref or actor.account_id)
        user = self.rt.state.get("user", user_id)
        if user is None:
            user = next((u for u in self.users_of(account["accountId"]) if u.get("uniqueUserId") == user_id), None)
        if user is None or user["accountId"] != account["accountId"]:
            raise NotFound("UserNotFound", f"user {user_id} was not found")
        return user

    def _check_role_grant(self, actor: Principal, account: dict[str, Any], role: str) -> None:
        if role not in ROLES:
            raise Invalid("ValidationError", f"role must be one of {', '.join(ROLES)}")
        if not role_at_least(actor.role, role):
            raise Forbidden("InsufficientPermissions", f"a {actor.role} cannot give the {role} role")
        if role == "PARTNER_ADMIN" and account.get("type") != "PARTNER":
            raise Invalid("ValidationError", "PARTNER_ADMIN can only be given to users of a partner account")

    def _check_unique(self, account_id: str, user: dict[str, Any], ignore: str | None = None) -> None:
        for other in self.users_of(account_id):
            if other["userId"] == ignore:
                continue
            if user.get("email") and other.get("email", "").lower() == user["email"].lower():
                raise Conflict("ConditionalCheckFailedException", f"a user with email {user['email']} already exists")
            if user.get("extension") and other.get("extension") == user["extension"]:
                raise Conflict("ConditionalCheckFailedException",
                               f"extension {user['extension']} is already assigned to another user")
            if user.get("loginId") and other.get("loginId") == user["loginId"]:
                raise Conflict("ConditionalCheckFailedException", f"loginId {user['loginId']} is taken")
        if self.rt.state.get("user", user["userId"]) is not None and user["userId"] != ignore:
            raise Conflict("ConditionalCheckFailedException", f"userId {user['userId']} already exists")
        # userId and uniqueUserId are login names across every account: neither may repeat anywhere.
        for other in self.rt.state.all("user"):
            if other["userId"] != ignore and user.get("uniqueUserId") in (other["userId"], other.get("uniqueUserId")):
                raise Conflict("ConditionalCheckFailedException", f"uniqueUserId {user['uniqueUserId']} already exists")

    def _user_fields(self, fields: dict[str, Any]) -> dict[str, Any]:
        unknown = set(fields) - USER_FIELDS
        if unknown:
            raise Invalid("ValidationError", f"data should NOT have additional properties: {sorted(unknown)}")
        out = dict(fields)
        if "email" in out:
            out["email"] = validation.email(out["email"])
        if "languageCode" in out and out["languageCode"] is not None:
            validation.language_code(out["languageCode"])
        for key in ("extension", "mobile", "phone", "loginId", "name", "firstName", "lastName"):
            if key in out and out[key] is not None and not isinstance(out[key], str):
                raise Invalid("ValidationError", f"{key} must be a string")
        if "extension" in out:
            out["extension"] = validation.extension(out["extension"])
        for key in ("mobile", "phone"):
            if key in out:
                out[key] = validation.phone(out[key], key)
        validation.text_lengths({k: v for k, v in out.items() if k != "password"})
        if isinstance(out.get("password"), str) and len(out["password"]) > validation.NAME_MAX:
            raise Invalid("ValidationError", f"password should NOT be longer than {validation.NAME_MAX} characters")
        return out

    def _build_user(self, actor: Principal, account: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
        fields = self._user_fields(fields)
        if "email" not in fields:
            raise Invalid("ValidationError", "data should have required property 'email'")
        role = fields.pop("role", None) or "USER"
        self._check_role_grant(actor, account, role)
        user_id = fields.pop("userId", None) or self.rt.ids.uuid()
        password = fields.pop("password", None)
        user: dict[str, Any] = {
            "userId": user_id, "uniqueUserId": fields.pop("uniqueUserId", None) or user_id,
            "accountId": account["accountId"], "role": role, "emailVerified": False, "extensionVerified": False,
            "mobileVerified": False, "phoneVerified": False, "userVerified": password is not None,
            "languageCode": account.get("languageCode", "en-US"), "source": "CLOUDLINK", "active": True,
            "tags": {},
        }
        user.update({k: v for k, v in fields.items() if v is not None})
        if not user.get("name"):
            parts = [user.get("firstName"), user.get("lastName")]
            user["name"] = " ".join(p for p in parts if p) or user["email"].split("@")[0]
        user["domain"] = domains.sip_domain(account)
        user["sipAddress"] = f"{user['userId']}@{user['domain']}"
        if password is not None:
            user["passwordHash"] = hash_password(str(password))
        self._stamp(user, actor, created=True)
        return user

    async def create_user(self, actor: Principal, account_ref: str | None, fields: dict[str, Any],
                          restricted: bool = False) -> dict[str, Any]:
        """``restricted`` is the legacy ``POST /users`` route: role is always USER."""
        account = self.access.account(actor, account_ref or actor.account_id, "ACCOUNT_ADMIN")
        if restricted and fields.get("role") not in (None, "USER"):
            raise Invalid("ValidationError", "this route only creates users with the USER role; "
                                             "use /accounts/{accountId}/users to give another role")
        user = self._build_user(actor, account, fields)
        limit = account.get("userLimit")
        if isinstance(limit, int) and limit > 0 and len(self.users_of(account["accountId"])) >= limit:
            raise Conflict("ConditionalCheckFailedException", f"the account's user limit of {limit} is reached")
        self._check_unique(account["accountId"], user)
        async with self.rt.write() as uow:
            uow.put("user", user["userId"], user)
            self._emit(uow, "user.created", account["accountId"], f"/users/{user['userId']}", user)
        return user

    async def update_user(self, actor: Principal, user_id: str, fields: dict[str, Any],
                          account_ref: str | None = None) -> dict[str, Any]:
        user = self.get_user(actor, user_id, account_ref)
        account = self.access.account(actor, user["accountId"])
        fields = self._user_fields(fields)
        is_self = actor.user_id == user["userId"]
        if not actor.at_least("ACCOUNT_ADMIN"):
            if not is_self or set(fields) - SELF_EDITABLE:
                raise Forbidden("InsufficientPermissions",
                                "a USER may only change their own name, phone numbers, language and password")
        if "userId" in fields and fields["userId"] != user["userId"]:
            raise Invalid("ValidationError", "userId cannot be changed")
        fields.pop("userId", None)
        if "uniqueUserId" in fields and fields["uniqueUserId"] != user["uniqueUserId"]:
            raise Invalid("ValidationError", "uniqueUserId cannot be changed")
        fields.pop("uniqueUserId", None)
        if "role" in fields and fields["role"] != user["role"]:
            self._check_role_grant(actor, account, fields["role"])
            if not role_at_least(actor.role, user["role"]):
                raise Forbidden("InsufficientPermissions", "cannot change the role of a user with a higher role")
        if not role_at_least(actor.role, user["role"]):
            raise Forbidden("InsufficientPermissions", "cannot change a user with a higher role")
        password = fields.pop("password", None)
        candidate = {**user, **fields}
        self._check_unique(user["accountId"], candidate, ignore=user["userId"])
        async with self.rt.write() as uow:
            changes = dict(fields)
            if password is not None:
                changes["passwordHash"] = hash_password(str(password))
                changes["userVerified"] = True
            if password is not None or (changes.get("active") is False and user.get("active", True)):
                # Every token issued to the user until now is revoked (core/auth: a token carries the
                # version it was issued under): a new password or a deactivation ends every session.
                changes["tokenVersion"] = int(user.get("tokenVersion") or 0) + 1
            updated = uow.update("user", user["userId"], **changes)
            self._stamp(updated, actor, created=False)
            self._emit(uow, "user.updated", updated["accountId"], f"/users/{updated['userId']}", updated)
        return updated

    async def delete_user(self, actor: Principal, user_id: str, account_ref: str | None = None) -> dict[str, Any]:
        user = self.get_user(actor, user_id, account_ref)
        self.access.require_role(actor, "ACCOUNT_ADMIN")
        if not role_at_least(actor.role, user["role"]):
            raise Forbidden("InsufficientPermissions", "cannot delete a user with a higher role")
        async with self.rt.write() as uow:
            self._drop_photo(uow, user)
            uow.delete("user", user["userId"])
            for group in self.rt.state.all("group"):
                if group["accountId"] == user["accountId"] and any(
                        m["memberId"] in (user["userId"], user["uniqueUserId"]) for m in group["members"]):
                    members = [m for m in group["members"]
                               if m["memberId"] not in (user["userId"], user["uniqueUserId"])]
                    g = uow.update("group", group["groupId"], members=members)
                    self._emit(uow, "group.updated", g["accountId"], f"/groups/{g['groupId']}", g)
            self._emit(uow, "user.deleted", user["accountId"], f"/users/{user['userId']}", None)
        return user

    # ------------------------------------------------------------------ tags (users and accounts)
    async def put_tag(self, actor: Principal, kind: str, doc: dict[str, Any], tag_id: str,
                      value: Any) -> dict[str, Any]:
        self.access.require_role(actor, "ACCOUNT_ADMIN")
        tags = copy.deepcopy(doc.get("tags") or {})
        tags[tag_id] = value
        async with self.rt.write() as uow:
            updated = uow.update(kind, _doc_id(kind, doc), tags=tags)
            self._stamp(updated, actor, created=False)
            self._emit(uow, f"{kind}.updated", updated.get("accountId"), _subject(kind, updated), updated)
        return updated

    async def delete_tag(self, actor: Principal, kind: str, doc: dict[str, Any], tag_id: str) -> dict[str, Any]:
        self.access.require_role(actor, "ACCOUNT_ADMIN")
        tags = copy.deepcopy(doc.get("tags") or {})
        if tag_id not in tags:
            raise NotFound("TagNotFound", f"tag {tag_id} was not found")
        del tags[tag_id]
        async with self.rt.write() as uow:
            updated = uow.update(kind, _doc_id(kind, doc), tags=tags)
            self._emit(uow, f"{kind}.updated", updated.get("accountId"), _subject(kind, updated), updated)
        return updated

    # ------------------------------------------------------------------ photos (users and contacts)
    async def put_photo(self, actor: Principal, kind: str, doc: dict[str, Any], data: bytes) -> dict[str, Any]:
        if not (actor.at_least("ACCOUNT_ADMIN") or (kind == "user" and actor.user_id == doc["userId"])):
            raise Forbidden("InsufficientPermissions", "only an administrator or the user may change this photo")
        renditions = render_photo(data)
        photo_id = self.rt.ids.uuid()
        async with self.rt.write() as uow:
            self._drop_photo(uow, doc)
            for size, (content_type, blob) in renditions.items():
                uow.put_blob(f"photos/{photo_id}/{size}", content_type, blob)
            updated = uow.update(kind, _doc_id(kind, doc),
                                 photo={"photoId": photo_id, "sizes": sorted(renditions)})
            self._stamp(updated, actor, created=False)
            self._emit(uow, f"{kind}.updated", updated["accountId"], _subject(kind, updated), updated)
        return updated

    async def delete_photo(self, actor: Principal, kind: str, doc: dict[str, Any]) -> dict[str, Any]:
        if not (actor.at_least("ACCOUNT_ADMIN") or (kind == "user" and actor.user_id == doc["userId"])):
            raise Forbidden("InsufficientPermissions", "only an administrator or the user may change this photo")
        if not doc.get("photo"):
            raise NotFound("PhotoNotFound", "no photo has been uploaded")
        async with self.rt.write() as uow:
            self._drop_photo(uow, doc)
            updated = uow.update(kind, _doc_id(kind, doc), photo=None)
            self._stamp(updated, actor, created=False)
            self._emit(uow, f"{kind}.updated", updated["accountId"], _subject(kind, updated), updated)
        return updated

    def _drop_photo(self, uow: UnitOfWork, doc: dict[str, Any]) -> None:
        photo = doc.get("photo")
        if photo:
            for size in photo["sizes"]:
                uow.delete_blob(f"photos/{photo['photoId']}/{size}")

    def photo_blob(self, photo_id: str, size: str) -> tuple[str, bytes]:
        blob = self.rt.state.blobs.get(f"photos/{photo_id}/{size}")
        if blob is None:
            raise NotFound("PhotoNotFound", "no such photo")
        return blob

    # ------------------------------------------------------------------ groups
    def list_groups(self, actor: Principal, account_ref: str | None) -> list[dict[str, Any]]:
        account = self.access.account(actor, account_ref or actor.account_id)
        return [g for g in self.rt.state.all("group") if g["accountId"] == account["accountId"]]

    def get_group(self, actor: Principal, group_id: str, account_ref: str | None) -> dict[str, Any]:
        account = self.access.account(actor, account_ref or actor.account_id)
        group = self.rt.state.get("group", group_id)
        if group is None or group["accountId"] != account["accountId"]:
            raise NotFound("GroupNotFound", f"group {group_id} was not found")
        return group

    def _members(self, account_id: str, members: Any) -> list[dict[str, Any]]:
        if not isinstance(members, list):
            raise Invalid("ValidationError", "members must be an array")
        users = {}
        for u in self.users_of(account_id):
            users[u["userId"]] = u
            users[u["uniqueUserId"]] = u
        out: dict[str, dict[str, Any]] = {}
        for index, member in enumerate(members):
            if not isinstance(member, dict) or not isinstance(member.get("memberId"), str):
                raise Invalid("ValidationError", f"members[{index}].memberId is required")
            extra = set(member) - {"memberId", "status", "type"}
            if extra:
                raise Invalid("ValidationError",
                              f"members[{index}] should NOT have additional properties: {sorted(extra)}")
            if member["memberId"] not in users:
                raise Invalid("ValidationError",
                              f"members[{index}].memberId {member['memberId']} is not a user of this account")
            status = member.get("status", "ACCEPTED")
            if status not in MEMBER_STATUS:
                raise Invalid("ValidationError", f"members[{index}].status must be one of {', '.join(MEMBER_STATUS)}")
            member_type = member.get("type", "USER")
            if member_type not in ("USER",):
                raise Invalid("ValidationError", f"members[{index}].type must be USER")
            out[member["memberId"]] = {"memberId": member["memberId"], "status": status, "type": member_type}
        return list(out.values())

    def _group_fields(self, fields: dict[str, Any], creating: bool) -> dict[str, Any]:
        allowed = {"name", "description", "visibility", "type", "members", "extension", "email"}
        unknown = set(fields) - allowed
        if unknown:
            raise Invalid("ValidationError", f"data should NOT have additional properties: {sorted(unknown)}")
        if creating and (not isinstance(fields.get("name"), str) or not fields["name"].strip()):
            raise Invalid("ValidationError", "data should have required property 'name'")
        if "visibility" in fields and fields["visibility"] not in GROUP_VISIBILITY:
            raise Invalid("ValidationError", "visibility must be PUBLIC or PRIVATE")
        if "type" in fields and fields["type"] not in GROUP_TYPES:
            raise Invalid("ValidationError", f"type must be one of {', '.join(GROUP_TYPES)}")
        if "extension" in fields:
            fields = dict(fields, extension=validation.extension(fields["extension"]))
        validation.text_lengths(fields)
        return fields

    async def create_group(self, actor: Principal, account_ref: str | None, fields: dict[str, Any]) -> dict[str, Any]:
        account = self.access.account(actor, account_ref or actor.account_id, "ACCOUNT_ADMIN")
        fields = self._group_fields(fields, creating=True)
        members = self._members(account["accountId"], fields.pop("members", []))
        group = {"groupId": self.rt.ids.uuid(), "accountId": account["accountId"], "visibility": "PUBLIC",
                 "type": "USER", **fields, "members": members}
        self._stamp(group, actor, created=True)
        async with self.rt.write() as uow:
            uow.put("group", group["groupId"], group)
            self._emit(uow, "group.created", group["accountId"], f"/groups/{group['groupId']}", group)
        return group

    async def update_group(self, actor: Principal, group_id: str, account_ref: str | None,
                           fields: dict[str, Any]) -> dict[str, Any]:
        group = self.get_group(actor, group_id, account_ref)
        self.access.require_role(actor, "ACCOUNT_ADMIN")
        fields = self._group_fields(fields, creating=False)
        if "members" in fields:
            fields["members"] = self._members(group["accountId"], fields["members"])
        async with self.rt.write() as uow:
            updated = uow.update("group", group_id, **fields)
            self._stamp(updated, actor, created=False)
            self._emit(uow, "group.updated", updated["accountId"], f"/groups/{group_id}", updated)
        return updated

    async def delete_group(self, actor: Principal, group_id: str, account_ref: str | None) -> dict[str, Any]:
        group = self.get_group(actor, group_id, account_ref)
        self.access.require_role(actor, "ACCOUNT_ADMIN")
        async with self.rt.write() as uow:
            uow.delete("group", group_id)
            self._emit(uow, "group.deleted", group["accountId"], f"/groups/{group_id}", None)
        return group

    async def add_members(self, actor: Principal, group_id: str, account_ref: str | None,
                          members: Any) -> dict[str, Any]:
        group = self.get_group(actor, group_id, account_ref)
        if not (actor.at_least("ACCOUNT_ADMIN") or _self_join(actor, group, members)):
            raise Forbidden("InsufficientPermissions",
                            "only an administrator adds members; a user may only join a PUBLIC group themselves")
        added = self._members(group["accountId"], members if isinstance(members, list) else [members])
        merged = {m["memberId"]: m for m in group["members"]}
        merged.update({m["memberId"]: m for m in added})
        async with self.rt.write() as uow:
            updated = uow.update("group", group_id, members=list(merged.values()))
            self._stamp(updated, actor, created=False)
            self._emit(uow, "group.updated", updated["accountId"], f"/groups/{group_id}", updated)
        return updated

    async def remove_member(self, actor: Principal, group_id: str, account_ref: str | None,
                            member_id: str) -> dict[str, Any]:
        group = self.get_group(actor, group_id, account_ref)
        if not (actor.at_least("ACCOUNT_ADMIN") or member_id in (actor.user_id, actor.principal_id)):
            raise Forbidden("InsufficientPermissions", "only an administrator removes other members")
        if not any(m["memberId"] == member_id for m in group["members"]):
            raise NotFound("MemberNotFound", f"{member_id} is not a member of group {group_id}")
        async with self.rt.write() as uow:
            updated = uow.update("group", group_id,
                                 members=[m for m in group["members"] if m["memberId"] != member_id])
            self._stamp(updated, actor, created=False)
            self._emit(uow, "group.updated", updated["accountId"], f"/groups/{group_id}", updated)
        return updated

    # ------------------------------------------------------------------ contacts
    def list_contacts(self, actor: Principal, account_ref: str | None) -> list[dict[str, Any]]:
        account = self.access.account(actor, account_ref or actor.account_id)
        return [c for c in self.rt.state.all("contact") if c["accountId"] == account["accountId"]]

    def get_contact(self, actor: Principal, contact_id: str, account_ref: str | None) -> dict[str, Any]:
        account = self.access.account(actor, account_ref or actor.account_id)
        contact = self.rt.state.get("contact", contact_id)
        if contact is None or contact["accountId"] != account["accountId"]:
            raise NotFound("ContactNotFound", f"contact {contact_id} was not found")
        return contact

    def _contact_fields(self, fields: dict[str, Any], creating: bool) -> dict[str, Any]:
        unknown = set(fields) - CONTACT_FIELDS
        if unknown:
            raise Invalid("ValidationError", f"data should NOT have additional properties: {sorted(unknown)}")
        if creating and not fields.get("name"):
            raise Invalid("ValidationError", "data should have required property 'name'")
        if fields.get("email") is not None:
            fields = dict(fields, email=validation.email(fields["email"]))
        for key in ("mobile", "phone"):
            if key in fields:
                fields = dict(fields, **{key: validation.phone(fields[key], key)})
        validation.text_lengths(fields)
        return fields

    async def create_contact(self, actor: Principal, account_ref: str | None, fields: dict[str, Any]) -> dict[str, Any]:
        account = self.access.account(actor, account_ref or actor.account_id, "ACCOUNT_ADMIN")
        fields = self._contact_fields(fields, creating=True)
        contact = {"contactId": self.rt.ids.uuid(), "accountId": account["accountId"], "contactType": "EXTERNAL",
                   **fields}
        self._stamp(contact, actor, created=True)
        async with self.rt.write() as uow:
            uow.put("contact", contact["contactId"], contact)
            self._emit(uow, "contact.created", contact["accountId"], f"/contacts/{contact['contactId']}", contact)
        return contact

    async def update_contact(self, actor: Principal, contact_id: str, account_ref: str | None,
                             fields: dict[str, Any]) -> dict[str, Any]:
        self.get_contact(actor, contact_id, account_ref)  # 404 unless the contact is visible
        self.access.require_role(actor, "ACCOUNT_ADMIN")
        fields = self._contact_fields(fields, creating=False)
        async with self.rt.write() as uow:
            updated = uow.update("contact", contact_id, **fields)
            self._stamp(updated, actor, created=False)
            self._emit(uow, "contact.updated", updated["accountId"], f"/contacts/{contact_id}", updated)
        return updated

    async def delete_contact(self, actor: Principal, contact_id: str, account_ref: str | None) -> dict[str, Any]:
        contact = self.get_contact(actor, contact_id, account_ref)
        self.access.require_role(actor, "ACCOUNT_ADMIN")
        async with self.rt.write() as uow:
            self._drop_photo(uow, contact)
            uow.delete("contact", contact_id)
            self._emit(uow, "contact.deleted", contact["accountId"], f"/contacts/{contact_id}", None)
        return contact

    # ------------------------------------------------------------------ welcome mail
    async def send_welcome(self, actor: Principal, account_ref: str, user_id: str,
                           language_code: str | None) -> dict[str, Any]:
        self.access.account(actor, account_ref, "ACCOUNT_ADMIN")
        user = self.get_user(actor, user_id, account_ref)
        language = validation.language_code(language_code) if language_code else user.get("languageCode", "en-US")
        token = self.rt.ids.uuid()
        mail = {
            "mailId": self.rt.ids.uuid(), "accountId": user["accountId"], "userId": user["userId"],
            "to": user["email"], "from": "no-reply@callyard.example", "template": "welcome",
            "languageCode": language, "subject": _WELCOME_SUBJECT.get(language[:2], _WELCOME_SUBJECT["en"]),
            "body": (f"Hello {user.get('name') or user['email']},\n\nAn account has been created for you. "
                     f"Complete your set-up (choose a password, verify your mobile number) within 72 hours:\n"
                     f"https://accounts.callyard.example/activate?token={token}\n"),
            "activationToken": token, "createdOn": self.rt.now_iso(), "delivery": "outbox",
        }
        async with self.rt.write() as uow:
            uow.put("mail", mail["mailId"], mail)
            self._emit(uow, "mail.queued", user["accountId"], f"/users/{user['userId']}/welcome", mail)
        return mail

    def list_mail(self, actor: Principal) -> list[dict[str, Any]]:
        visible = {a["accountId"] for a in self.access.visible_accounts(actor)}
        mails = [m for m in self.rt.state.all("mail") if m["accountId"] in visible]
        return sorted(mails, key=lambda m: m["createdOn"])

    async def mark_mail(self, mail_id: str, delivery: str) -> None:
        if self.rt.state.get("mail", mail_id) is None:
            return
        async with self.rt.write() as uow:
            uow.update("mail", mail_id, delivery=delivery)


_WELCOME_SUBJECT = {"en": "Welcome! Complete your account set-up",
                    "fr": "Bienvenue ! Terminez la configuration de votre compte",
                    "de": "Willkommen! Schließen Sie die Einrichtung Ihres Kontos ab"}


def _self_join(actor: Principal, group: dict[str, Any], members: Any) -> bool:
    items = members if isinstance(members, list) else [members]
    return (group.get("visibility") == "PUBLIC" and len(items) == 1 and isinstance(items[0], dict)
            and items[0].get("memberId") in (actor.user_id, actor.principal_id))


_ID_FIELD = {"user": "userId", "group": "groupId", "contact": "contactId", "account": "accountId",
             "application": "recordId", "mail": "mailId", "sms": "smsId"}


def _doc_id(kind: str, doc: dict[str, Any]) -> str:
    doc_id: str = doc[_ID_FIELD[kind]]
    return doc_id


def _subject(kind: str, doc: dict[str, Any]) -> str:
    return {"user": "/users/{}", "contact": "/contacts/{}", "account": "/accounts/{}",
            "group": "/groups/{}"}[kind].format(_doc_id(kind, doc))


def _public(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    """Events never carry secrets."""
    if doc is None:
        return None
    return {k: v for k, v in doc.items() if k not in ("passwordHash", "clientSecretHash", "activationToken")}


def new_account(rt: Runtime, name: str, partner: dict[str, Any] | None, account_id: str | None = None,
                account_number: str | None = None, domain: str | None = None) -> dict[str, Any]:
    """A new account document. Without ``domain``, one is derived from the name that no account of the
    running twin has (see ``callyard.core.directory.domains``)."""
    account_id = account_id or rt.ids.uuid()
    number = account_number or rt.ids.digits(9)
    domain = domain or domains.derive(name, domains.taken_by(rt.state.all("account")))
    return {
        "accountId": account_id, "accountNumber": number, "name": name,
        "type": "CUSTOMER" if partner else "PARTNER",
        "partnerId": partner["partnerId"] if partner else number,
        "parentAccountId": partner["accountId"] if partner else None,
        "active": True, "state": "ACTIVE", "source": "CLOUDLINK", "languageCode": "en-US",
        "domain": domain, "sipDomain": domains.default_sip_domain(account_id), "accessTokenExpiryHours": 1,
        "refreshTokenExpiryHours": 336,
        "userLimit": 0, "policy": {"allowGuestAccess": False, "allowProxyAuthentication": False},
        "location": {"address": {"country": "CA", "street": "", "city": "Ottawa", "stateOrProvince": "ON",
                                 "zipCode": ""}},
        "topLevelDomain": [], "contacts": [], "tags": {},
    }
