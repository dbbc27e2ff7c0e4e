"""The contact center's platform configuration: media servers, mail servers, application profiles, voice
routing prompts and IVR variables.

* **Media servers** are what the twin runs, derived per account: the simulated PBX (a SIP node, connected to
  CloudLink: ``cloudlinkEnabled``), and one node per other media the account's queues or agents use
  (MCCWebChat, MCCEmail, MCCSms, MCCOpenMedia; the chat node is CloudLink's chat). Ids are stable (derived
  from the account and the media). Their clocks are the twin's clock. No credentials are exposed.
* **The mail server** is the twin's own mail transport, read from the server's settings (``attach_mail``):
  the SMTP relay of ``--smtp`` (outbound; none means mail is only captured in the outbox) and the inbound SMTP
  listener when the server has one (``--smtp-listen``), with the addresses of the account's Email queues
  (``emailAddress``) as its aliases.
* **Application profiles, prompts and variables** come from the tenant file's ``contactCenter``
  (``applicationProfiles``, ``prompts``, ``variables``; ``load_platform``). A prompt is a real WAV file (the
  same synthesised audio as recordings and voicemail, of the prompt's length), kept as a blob.

Every read is scoped to the caller's account; any employee or registered client of the account may read.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable

from callyard.core.contact_center.model import MEDIA
from callyard.core.engine.recordings import CONTENT_TYPE, synthesise_wav
from callyard.core.errors import Invalid, NotFound
from callyard.core.principal import Principal
from callyard.core.state import State

if TYPE_CHECKING:
    from callyard.core.contact_center.desk import Desk

APP_PROFILE, PROMPT, VARIABLE = "cc_app_profile", "cc_prompt", "cc_variable"
NAMESPACE = uuid.UUID("6f1c0d3e-2b7a-4e0c-9a51-cc00000005e7")
# NodeTypes (MediaServerType) of seed 004 for each media the twin serves.
NODE_TYPES = {"Voice": "SIP", "Chat": "MCCWebChat", "Email": "MCCEmail", "Sms": "MCCSms", "OpenMedia": "MCCOpenMedia"}
CLOUDLINK_MEDIA = ("Voice", "Chat")
VARIABLE_TYPES = ("String", "Integer", "Boolean", "DateTime")
PROMPT_MAX_SECONDS = 300


@dataclass(frozen=True)
class MailSettings:
    relay: str | None = None          # --smtp HOST:PORT (outbound)
    listener: str | None = None       # the inbound SMTP listener HOST:PORT, when the server runs one
    sender: str = "no-reply@callyard.example"


@lru_cache(maxsize=32)
def _wav(seconds: float) -> bytes:
    return synthesise_wav(seconds)


def _host_port(value: str | None) -> tuple[str | None, int | None]:
    if not value:
        return None, None
    host, _, port = value.rpartition(":")
    if not host:
        return value, 25
    return host, int(port) if port.isdigit() else None


class Platform:
    def __init__(self, desk: "Desk") -> None:
        self.desk = desk
        self.rt = desk.rt
        self.config = desk.config
        self.mail = MailSettings()

    def attach_mail(self, mail: MailSettings) -> None:
        self.mail = mail

    def _account(self, actor: Principal) -> dict[str, Any]:
        caller = self.desk.caller(actor)
        return self.rt.state.get("account", caller.account_id) or {"accountId": caller.account_id, "name": ""}

    def _find(self, items: list[dict[str, Any]], ref: str, keys: tuple[str, ...], what: str) -> dict[str, Any]:
        wanted = ref.strip().lower()
        found = [d for d in items if any(str(d.get(k) or "").lower() == wanted for k in keys)]
        if len(found) != 1:
            raise NotFound(f"{what.replace(' ', '').title()}NotFound", f"{what} {ref} was not found")
        return found[0]

    # ------------------------------------------------------------------ media servers
    def _media_used(self, account_id: str) -> list[str]:
        used = {q["mediaType"] for q in self.config.queues(account_id)}
        for employee in self.config.employees(account_id):
            used.update(employee["agents"])
        used.add("Voice")   # the PBX is always there
        return [m for m in MEDIA if m in used]

    def mail_server_id(self, account_id: str) -> str:
        return str(uuid.uuid5(NAMESPACE, f"{account_id}:mail"))

    def media_servers(self, actor: Principal) -> list[dict[str, Any]]:
        account = self._account(actor)
        account_id = account["accountId"]
        site = next(iter(self.config.sites(account_id)), None)
        extensions = [u["extension"] for u in self.rt.state.all("user")
                      if u["accountId"] == account_id and u.get("extension")]
        host = account.get("sipDomain") or account.get("domain")
        out = []
        for media in self._media_used(account_id):
            queues = [q for q in self.config.queues(account_id) if q["mediaType"] == media]
            out.append({
                "id": str(uuid.uuid5(NAMESPACE, f"{account_id}:{media}")), "accountId": account_id,
                "name": f"{account.get('name', '')} {'PBX' if media == 'Voice' else media}".strip(),
                "mediaType": media, "mediaServerType": NODE_TYPES[media], "ipAddressOrDnsName": host,
                "siteRefId": site["id"] if site else None, "inboundRoutingEnabled": bool(queues),
                "outboundRoutingEnabled": media in ("Voice", "Email", "Sms"), "responseRoutingEnabled": False,
                "mailServers": [self.mail_server_id(account_id)] if media == "Email" else [],
                "minDigitsDialed": min((len(e) for e in extensions), default=0) if media == "Voice" else 0,
                "cloudlinkEnabled": media in CLOUDLINK_MEDIA, "queues": [q["id"] for q in queues]})
        return out

    def media_server(self, actor: Principal, ref: str) -> dict[str, Any]:
        return self._find(self.media_servers(actor), ref, ("id", "name", "mediaServerType"), "media server")

    def media_server_times(self, actor: Principal) -> dict[str, str]:
        now = self.rt.now_iso()
        return {server["id"]: now for server in self.media_servers(actor)}

    # ------------------------------------------------------------------ mail servers
    def mail_servers(self, actor: Principal) -> list[dict[str, Any]]:
        account = self._account(actor)
        account_id = account["accountId"]
        relay_host, relay_port = _host_port(self.mail.relay)
        in_host, in_port = _host_port(self.mail.listener)
        aliases = [str(q["emailAddress"]) for q in self.config.queues(account_id)
                   if q["mediaType"] == "Email" and q.get("emailAddress")]
        return [{"id": self.mail_server_id(account_id), "accountId": account_id,
                 "name": f"{account.get('name', '')} mail".strip(), "smtpServer": relay_host, "smtpPort": relay_port,
                 "smtpUsesSsl": False, "smtpConnectionTimeoutSeconds": 10, "smtpFromEmail": self.mail.sender,
                 "smtpFromName": account.get("name"), "smtpAuthenticationRequired": False,
                 "incomingServerName": in_host, "incomingPort": in_port, "incomingEnableTls": False,
                 "incomingEmailAliases": aliases, "capturedInOutbox": True}]

    def mail_server(self, actor: Principal, ref: str) -> dict[str, Any]:
        return self._find(self.mail_servers(actor), ref, ("id", "name"), "mail server")

    # ------------------------------------------------------------------ profiles, prompts, variables
    def _docs(self, actor: Principal, kind: str) -> list[dict[str, Any]]:
        account_id = self.desk.caller(actor).account_id
        return sorted((d for d in self.rt.state.all(kind) if d["accountId"] == account_id),
                      key=lambda d: (str(d.get("name")).lower(), d["id"]))

    def application_profiles(self, actor: Principal, application: str) -> list[dict[str, Any]]:
        """The profiles of an application (404 for an application the account has no profile of)."""
        wanted = application.strip().lower()
        found = [d for d in self._docs(actor, APP_PROFILE) if d["application"].lower() == wanted]
        if not found:
            raise NotFound("ApplicationNotFound", f"no application profiles of {application}")
        return found

    def application_profile(self, actor: Principal, application: str, ref: str) -> dict[str, Any]:
        return self._find(self.application_profiles(actor, application), ref, ("id", "name"),
                          "application profile")

    def prompts(self, actor: Principal) -> list[dict[str, Any]]:
        return self._docs(actor, PROMPT)

    def prompt(self, actor: Principal, ref: str) -> dict[str, Any]:
        return self._find(self.prompts(actor), ref, ("id", "name"), "prompt")

    def prompt_audio(self, actor: Principal, ref: str) -> tuple[dict[str, Any], str, bytes]:
        doc = self.prompt(actor, ref)
        blob = self.rt.state.blobs.get(doc["blobId"])
        if blob is None:
            raise NotFound("PromptNotFound", "the prompt's audio is gone")
        return doc, blob[0], blob[1]

    def variables(self, actor: Principal) -> list[dict[str, Any]]:
        return self._docs(actor, VARIABLE)

    def variable(self, actor: Principal, ref: str) -> dict[str, Any]:
        return self._find(self.variables(actor), ref, ("id", "name"), "variable")


def load_platform(state: State, account: dict[str, Any], spec: dict[str, Any],
                  put: Callable[[str, dict[str, Any]], dict[str, Any]], site_id: str) -> None:
    """The tenant file's ``applicationProfiles``, ``prompts`` and ``variables`` of an account's contact center."""
    def bad(message: str) -> Invalid:
        return Invalid("InvalidTenant", f"account {account['name']}, contactCenter: {message}")

    for profile in spec.get("applicationProfiles", []):
        if not profile.get("name") or not profile.get("application"):
            raise bad("an application profile has a name and an application")
        put(APP_PROFILE, {"siteId": site_id, "settings": {}, **profile})
    for prompt in spec.get("prompts", []):
        seconds = prompt.get("seconds", 3)
        if not prompt.get("name") or not isinstance(seconds, (int, float)) or not 0 < seconds <= PROMPT_MAX_SECONDS:
            raise bad(f"prompt {prompt.get('name')}: a name and seconds (0-{PROMPT_MAX_SECONDS}]")
        doc = put(PROMPT, {"description": "", **prompt, "durationInSeconds": float(seconds),
                           "contentType": CONTENT_TYPE})
        state.load(PROMPT, doc["id"], {**doc, "blobId": f"prompt:{doc['id']}"})
        state.blobs[f"prompt:{doc['id']}"] = (CONTENT_TYPE, _wav(float(seconds)))
    for variable in spec.get("variables", []):
        kind = variable.get("type", "String")
        if not variable.get("name") or kind not in VARIABLE_TYPES:
            raise bad(f"variable {variable.get('name')}: a name and a type of {', '.join(VARIABLE_TYPES)}")
        put(VARIABLE, {"category": "User", "defaultValue": None, "description": "", **variable, "type": kind})
