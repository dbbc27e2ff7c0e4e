"""Snapshots of the twin's state (``/_callyard/state``) and the rules for what one may export and import.

* Secrets are never exported in clear. A password hash, a client secret hash, a webhook signing secret or a
  welcome mail's activation token is *sealed*: encrypted (AES-GCM) with a key derived from the twin's own
  signing key and bound to its place (kind, document id, field), so only this twin opens it, and only at
  that place. Authorization codes (live credentials for ten minutes) are not exported at all.
* Scope: the operator exports and imports the whole twin; an administrator exports, imports and resets only
  the accounts they administer (``accounts``). A scoped import is checked as a whole before anything
  changes: every document belongs to one of those accounts; the accounts keep their identity (id, number,
  type, parent, partner, domains); no role above the administrator's; no registration of an application
  (that is a partner's act); no new reference to an object of another account; no blob of another account.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any, Iterable, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from callyard.core.directory.domains import upgrade_accounts
from callyard.core.errors import Forbidden, Invalid
from callyard.core.principal import ROLES, Principal, role_at_least
from callyard.core.state import State

SNAPSHOT_FORMAT = "callyard-state"
SNAPSHOT_VERSION = 1
SECRET_FIELDS = ("passwordHash", "clientSecretHash", "secretHash", "signingSecret", "activationToken", "tokenHash",
                 "oscmsToken")
SEALED = "sealed:v1:"
NOT_EXPORTED = ("auth_code",)   # single-use login codes: credentials, and gone in ten minutes anyway
# An account keeps these through a scoped import: they are who the account is, in the twin and to others.
ACCOUNT_IDENTITY = ("accountId", "accountNumber", "type", "parentAccountId", "partnerId", "domain", "sipDomain")
ID_FIELDS = {"account": "accountId", "user": "userId", "group": "groupId", "contact": "contactId",
             "application": "recordId", "mail": "mailId", "auth_code": "code", "sms": "smsId",
             "personal_contact": "cid", "meeting_event": "id",
             "recording": "recordingId", "endpoint": "endpointKey", "call_record": "recordId",
             "voicemail": "voicemailId", "agent": "agentKey", "queue_call": "recordId",
             "subscription": "subscriptionId", "delivery": "deliveryId", "presence": "principalId",
             "connection": "connectionId", "conference": "id", "participant": "recordId", "attendance": "id",
             "conversation": "conversationId", "message": "messageId", "token_family": "familyId",
             "uc_ticket": "ticketId", "cti_webhook": "webhookId",
             # the UC user-centred groups (devices, lines, communication log, group call log)
             "device": "deviceKey", "device_webhook": "webhookId", "user_line": "lineKey",
             "commlog_item": "itemKey", "commlog_counter": "accountId", "group_call_item": "itemKey",
             "group_call_counter": "accountId",
             # the UC presence, diversion and user settings (core/presence/uc.py, core/devices/diversion.py,
             # core/devices/user_settings.py)
             "presence_shortcuts": "userId", "activity_diversion": "userId", "mobile_diversion": "userId",
             "voicemail_settings": "userId", "mobile_subscriber": "subscriberKey",
             # the UC contacts (core/contacts): contact lists, directory fields, scheduled presence
             "contact_list": "userId", "contact_fields": "userId", "future_presence": "key",
             # the contact center's configuration and state (core/contact_center/config.py)
             **{kind: "id" for kind in ("cc_site", "cc_employee", "cc_agent_group", "cc_queue", "cc_reason",
                                        "cc_warning", "cc_dnis", "cc_client", "cc_directory", "cc_interaction",
                                        "cc_case", "cc_state", "cc_call_details", "cc_greetings")},
             # the contact center's e-mail (core/contact_center/mailroom.py)
             **{kind: "id" for kind in ("cc_email", "cc_email_file")},
             # the contact center's templates, OSCMS webhooks, diagnostics and platform configuration
             **{kind: "id" for kind in ("cc_reply_template", "cc_oscms_webhook", "cc_monitor", "cc_problem_report",
                                        "cc_app_profile", "cc_prompt", "cc_variable")}}


class Sealer:
    """Seals and opens the secrets of a snapshot with one symmetric key."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self._nonce_key = hmac.new(key, b"nonce", hashlib.sha256).digest()

    def seal(self, kind: str, doc_id: str, field: str, value: str) -> str:
        # The nonce is derived from the place and the value (a synthetic IV): the same secret at the same place
        # seals to the same text, so two exports of an unchanged twin are equal; different plaintexts never
        # share a nonce.
        place = _place(kind, doc_id, field)
        nonce = hmac.new(self._nonce_key, place + b"\0" + value.encode(), hashlib.sha256).digest()[:12]
        sealed = self._aead.encrypt(nonce, value.encode(), place)
        return SEALED + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, kind: str, doc_id: str, field: str, value: Any) -> str:
        if not isinstance(value, str) or not value.startswith(SEALED):
            raise Invalid("InvalidSnapshot", f"{kind} {doc_id}: {field} must be the sealed value an export gave "
                                             "(secrets are never imported in clear)")
        try:
            raw = base64.urlsafe_b64decode(value[len(SEALED):].encode())
            return self._aead.decrypt(raw[:12], raw[12:], _place(kind, doc_id, field)).decode()
        except (InvalidTag, ValueError, binascii.Error):
            raise Invalid("InvalidSnapshot", f"{kind} {doc_id}: {field} was not sealed by this twin for this "
                                             "document") from None


def _place(kind: str, doc_id: str, field: str) -> bytes:
    return f"{kind}/{doc_id}/{field}".encode()


def owner(doc: dict[str, Any]) -> str | None:
    account = doc.get("accountId")
    return account if isinstance(account, str) else None


def blob_refs(doc: dict[str, Any]) -> set[str]:
    """The blobs a document owns: a photo's renditions, a recording's or a voicemail's audio."""
    found: set[str] = set()
    photo = doc.get("photo")
    if isinstance(photo, dict) and isinstance(photo.get("photoId"), str):
        found.update(f"photos/{photo['photoId']}/{size}" for size in photo.get("sizes") or ()
                     if isinstance(size, str))
    if isinstance(doc.get("blobId"), str):
        found.add(doc["blobId"])
    return found


def in_scope(state: State, accounts: set[str] | None) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(kind, id, document) of every document of ``accounts`` (None: all)."""
    for kind, docs in state.docs.items():
        for doc_id, doc in docs.items():
            if accounts is None or owner(doc) in accounts:
                yield kind, doc_id, doc


def export(state: State, sealer: Sealer, exported_at: str, accounts: set[str] | None) -> dict[str, Any]:
    documents: dict[str, list[dict[str, Any]]] = {}
    blobs: set[str] = set()
    for kind, doc_id, doc in in_scope(state, accounts):
        if kind in NOT_EXPORTED:
            continue
        out = dict(doc)
        for field in SECRET_FIELDS:
            if isinstance(out.get(field), str):
                out[field] = sealer.seal(kind, doc_id, field, out[field])
        documents.setdefault(kind, []).append(out)
        blobs |= blob_refs(doc)
    if accounts is None:
        blobs = set(state.blobs)
    snapshot: dict[str, Any] = {"format": SNAPSHOT_FORMAT, "version": SNAPSHOT_VERSION, "exportedAt": exported_at}
    if accounts is not None:
        snapshot["accounts"] = sorted(accounts)
    snapshot["documents"] = {kind: sorted(docs, key=lambda d: json.dumps(d, sort_keys=True))
                             for kind, docs in sorted(documents.items())}
    snapshot["blobs"] = {blob_id: {"contentType": ct, "data": base64.b64encode(data).decode()}
                         for blob_id, (ct, data) in sorted(state.blobs.items()) if blob_id in blobs}
    return snapshot


def parse(snapshot: Any, sealer: Sealer) -> State:
    """The snapshot as a state, its secrets opened; ``InvalidSnapshot`` naming the first problem."""
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
        id_field = ID_FIELDS.get(kind)
        if id_field is None or kind in NOT_EXPORTED or not isinstance(docs, list):
            raise Invalid("InvalidSnapshot", f"unknown document kind {kind!r}")
        for doc in docs:
            if not isinstance(doc, dict) or not isinstance(doc.get(id_field), str):
                raise Invalid("InvalidSnapshot", f"every {kind} document needs a string {id_field}")
            doc_id = doc[id_field]
            if state.get(kind, doc_id) is not None:
                raise Invalid("InvalidSnapshot", f"{kind} {doc_id} appears twice")
            for field in SECRET_FIELDS:
                if field in doc and doc[field] is not None:
                    doc[field] = sealer.open(kind, doc_id, field, doc[field])
            _check_document(kind, doc)
            state.load(kind, doc_id, doc)
    for blob_id, blob in blobs.items():
        try:
            state.blobs[blob_id] = (str(blob["contentType"]), base64.b64decode(blob["data"], validate=True))
        except (KeyError, TypeError, binascii.Error):
            raise Invalid("InvalidSnapshot", f"blob {blob_id} is malformed") from None
    if not state.docs.get("account"):
        raise Invalid("InvalidSnapshot", "a snapshot holds at least one account")
    upgrade_accounts(list(state.docs["account"].values()))  # snapshots from before account domains
    return state


def _check_document(kind: str, doc: dict[str, Any]) -> None:
    """The shape the rest of the twin relies on, for the kinds that grant something."""
    name = doc.get(ID_FIELDS[kind])
    if kind != "account" and kind != "presence" and not isinstance(doc.get("accountId"), str):
        raise Invalid("InvalidSnapshot", f"{kind} {name} needs a string accountId")
    if "role" in doc and doc["role"] not in ROLES:
        raise Invalid("InvalidSnapshot", f"{kind} {name}: role must be one of {', '.join(ROLES)}")
    if kind == "user" and not isinstance(doc.get("role"), str):
        raise Invalid("InvalidSnapshot", f"user {name} needs a role")


def check_scoped(current: State, new: State, accounts: set[str], actor: Principal) -> None:
    """An import of ``accounts`` only, by ``actor``: refuse it whole unless every rule holds."""
    for kind, doc_id, doc in in_scope(new, None):
        account = owner(doc)
        if account not in accounts:
            raise Forbidden("ForbiddenSnapshot", f"{kind} {doc_id} belongs to account {account}, which this "
                                                 "import may not change")
        existing = current.get(kind, doc_id)
        if existing is not None and owner(existing) not in accounts:
            raise Forbidden("ForbiddenSnapshot", f"{kind} {doc_id} is another account's")
        role = doc.get("role")
        if isinstance(role, str) and not role_at_least(actor.role, role):
            raise Forbidden("ForbiddenSnapshot", f"{kind} {doc_id} has role {role}, above the importer's "
                                                 f"({actor.role})")
        if kind == "application" and doc.get("registration"):
            if existing is None or existing != doc:
                raise Forbidden("ForbiddenSnapshot", f"application {doc_id}: registering or changing an "
                                                     "application's registration is a partner's act")
    wanted = {doc_id for doc_id, _ in new.docs.get("account", {}).items()}
    if wanted != accounts:
        missing, extra = sorted(accounts - wanted), sorted(wanted - accounts)
        raise Invalid("InvalidSnapshot", f"a scoped snapshot holds exactly the accounts {sorted(accounts)}"
                                         + (f"; missing {missing}" if missing else "")
                                         + (f"; not allowed {extra}" if extra else ""))
    for account_id, doc in new.docs["account"].items():
        before = current.get("account", account_id) or {}
        changed = [f for f in ACCOUNT_IDENTITY if doc.get(f) != before.get(f)]
        if changed:
            raise Forbidden("ForbiddenSnapshot", f"account {account_id}: {', '.join(changed)} cannot change "
                                                 "through an import")
    # No new reference to another account's objects: every id the scope did not already mention.
    foreign = {doc_id for _kind, doc_id, doc in in_scope(current, None) if owner(doc) not in accounts}
    already = set(_strings(doc for _k, _i, doc in in_scope(current, accounts)))
    for kind, doc_id, doc in in_scope(new, None):
        for value in _strings([doc]):
            if value in foreign and value not in already:
                raise Forbidden("ForbiddenSnapshot", f"{kind} {doc_id} refers to {value}, an object of another "
                                                     "account")
    # Blobs: only those the imported documents own, never one another account's documents own.
    owned = set().union(*(blob_refs(doc) for _k, _i, doc in in_scope(new, None)))
    others = set().union(*(blob_refs(doc) for _k, _i, doc in in_scope(current, None) if owner(doc) not in accounts))
    for blob_id in new.blobs:
        if blob_id not in owned or blob_id in others:
            raise Forbidden("ForbiddenSnapshot", f"blob {blob_id} is not owned by a document of this import")


def _strings(values: Iterable[Any]) -> Iterator[str]:
    for value in values:
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            yield from _strings(value.keys())
            yield from _strings(value.values())
        elif isinstance(value, list):
            yield from _strings(value)
