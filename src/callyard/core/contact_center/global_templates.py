"""Global reply templates: answers a supervisor writes once for everyone (MiCC's "Global Reply Templates").

A template has the customer's question or concern (``customerText``), the answer (``template``, HTML or text,
and ``templateText``, its plain text: derived from ``template`` unless given), a media (``Unspecified`` for any,
``Email``, ``Chat`` or ``Sms``), tags and the queues it is associated with.

Who sees which (the contact center's security roles, ``Desk.caller``): a supervisor ("May see all queues") and
a registered client see every template of the account; an agent sees the templates of the queues they answer
and the templates associated with no queue. Only a supervisor creates, changes or deletes one, and only with
queues of the account of the same media (a queue of another media, of another account or unknown is a 400).

Documents of kind ``cc_reply_template``: ``{id, accountId, siteId, customerText, template, templateText, media,
tags[], queues[], createdOn, modifiedOn}``.
"""
from __future__ import annotations

from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

from callyard.core.contact_center.desk_access import Caller
from callyard.core.errors import Forbidden, Invalid, NotFound
from callyard.core.principal import Principal

if TYPE_CHECKING:
    from callyard.core.contact_center.desk import Desk

KIND = "cc_reply_template"
MEDIA = ("Unspecified", "Email", "Chat", "Sms")
TEXT_MAX = 64 * 1024
TAG_MAX = 64
TAGS_MAX = 32
DEFAULT_TOP = 25
TOP_MAX = 1000


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "p", "div", "li", "tr"):
            self.parts.append("\n")


def plain_text(markup: str) -> str:
    """The text of an HTML answer (tags dropped, entities decoded, blank lines squeezed)."""
    parser = _Text()
    parser.feed(markup)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return "\n".join(line for line in lines if line)


class GlobalReplyTemplates:
    def __init__(self, desk: "Desk") -> None:
        self.desk = desk
        self.rt = desk.rt
        self.config = desk.config

    # ------------------------------------------------------------------ who sees what
    def _mine(self, caller: Caller) -> set[str] | None:
        """The queue ids whose templates the caller sees (None: every template)."""
        if caller.sees_all:
            return None
        assert caller.employee is not None
        return {q["id"] for q in self.config.queues_of(caller.employee)}

    def _visible(self, caller: Caller, doc: dict[str, Any]) -> bool:
        mine = self._mine(caller)
        return doc["accountId"] == caller.account_id and (
            mine is None or not doc["queues"] or bool(mine & set(doc["queues"])))

    def _all(self, caller: Caller) -> list[dict[str, Any]]:
        """The caller's templates, by question (then answer)."""
        found = [d for d in self.rt.state.all(KIND) if self._visible(caller, d)]
        return sorted(found, key=lambda d: (d["customerText"].lower(), d["templateText"].lower(), d["id"]))

    # ------------------------------------------------------------------ reads
    def search(self, actor: Principal, *, search: str = "", media: str | None = None, skip: int = 0,
               top: int = DEFAULT_TOP, site_id: str | None = None) -> tuple[list[dict[str, Any]], int]:
        """The caller's templates matching ``search`` (in the question, the answer or a tag, regardless of
        case), ``media`` (a template for ``Unspecified`` media matches every media) and the site, paged:
        (page, total)."""
        if skip < 0 or top < 0:
            raise Invalid("InvalidQuery", "skip and top are not negative")
        wanted = self._media(media) if media else None
        needle = search.strip().lower()
        found = []
        for doc in self._all(self.desk.caller(actor)):
            if wanted not in (None, "Unspecified") and doc["media"] not in (wanted, "Unspecified"):
                continue
            haystack = " ".join([doc["customerText"], doc["templateText"], doc["template"], *doc["tags"]]).lower()
            if needle and needle not in haystack:
                continue
            if site_id is not None and str(doc.get("siteId")).lower() != site_id.strip().lower():
                continue
            found.append(doc)
        return found[skip:skip + min(top, TOP_MAX)], len(found)

    def get(self, actor: Principal, template_id: str) -> dict[str, Any]:
        caller = self.desk.caller(actor)
        doc = self.rt.state.get(KIND, template_id.strip().lower())
        if doc is None or not self._visible(caller, doc):
            raise NotFound("GlobalReplyTemplateNotFound", f"global reply template {template_id} was not found")
        return doc

    def tags(self, actor: Principal) -> list[dict[str, Any]]:
        """Every tag of the caller's templates, with how many templates carry it."""
        counts: dict[str, int] = {}
        names: dict[str, str] = {}
        for doc in self._all(self.desk.caller(actor)):
            for tag in doc["tags"]:
                counts[tag.lower()] = counts.get(tag.lower(), 0) + 1
                names.setdefault(tag.lower(), tag)
        return [{"name": names[k], "count": counts[k]} for k in sorted(counts)]

    # ------------------------------------------------------------------ changes (supervisors)
    def _author(self, actor: Principal) -> Caller:
        caller = self.desk.caller(actor)
        if caller.third_party:
            raise Forbidden("ThirdPartyDenied", "a client may not change global reply templates; impersonate a "
                                                "supervisor")
        if not caller.supervisor:
            raise Forbidden("InsufficientPermissions", "global reply templates are written by supervisors")
        return caller

    @staticmethod
    def _media(value: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(MEDIA):
            return MEDIA[value]
        if isinstance(value, str):
            found = next((m for m in MEDIA if m.lower() == value.strip().lower()), None)
            if found is not None:
                return found
        raise Invalid("InvalidMedia", f"media is one of {', '.join(MEDIA)} (or 0-3)")

    @staticmethod
    def _text(body: dict[str, Any], key: str, required: bool = False) -> str | None:
        value = body.get(key)
        if value is None:
            if required:
                raise Invalid("InvalidGlobalReplyTemplate", f"{key} is required")
            return None
        if not isinstance(value, str):
            raise Invalid("InvalidGlobalReplyTemplate", f"{key} is a string")
        if len(value) > TEXT_MAX:
            raise Invalid("InvalidGlobalReplyTemplate", f"{key} is longer than {TEXT_MAX} characters")
        return value

    @staticmethod
    def _tags(value: Any) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list) or len(value) > TAGS_MAX:
            raise Invalid("InvalidTags", f"tags is an array of at most {TAGS_MAX} tags")
        out: list[str] = []
        for tag in value:
            name = tag.get("name") if isinstance(tag, dict) else tag
            if not isinstance(name, str) or not name.strip() or len(name) > TAG_MAX:
                raise Invalid("InvalidTags", f"a tag is a non-empty name of at most {TAG_MAX} characters")
            if name.strip().lower() not in {t.lower() for t in out}:
                out.append(name.strip())
        return out

    def _queues(self, caller: Caller, value: Any, media: str, stored: bool = False) -> list[str]:
        """The queue ids of ``value`` (ids, names or reporting numbers), each of the account and of ``media``
        (any for Unspecified). ``stored``: the template's own list, where a queue deleted since is dropped."""
        if value is None:
            return []
        if not isinstance(value, list):
            raise Invalid("InvalidQueues", "queues is an array of queue ids, names or reporting numbers")
        out: list[str] = []
        for item in value:
            ref = item.get("id") if isinstance(item, dict) else item
            if not isinstance(ref, str) or not ref.strip():
                raise Invalid("InvalidQueues", "queues is an array of queue ids, names or reporting numbers")
            try:
                queue = self.config.queue(caller.account_id, ref)
            except NotFound:
                if stored:
                    continue
                raise Invalid("InvalidQueues", f"queue {ref} was not found") from None
            if media != "Unspecified" and queue["mediaType"] != media:
                raise Invalid("InvalidQueues", f"queue {queue['name']} is a {queue['mediaType']} queue; the "
                                               f"template is for {media}")
            if queue["id"] not in out:
                out.append(queue["id"])
        return out

    def _fields(self, caller: Caller, body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        base = current or {}
        media = self._media(body["media"]) if body.get("media") is not None else base.get("media", "Unspecified")
        template = self._text(body, "template", required=current is None)
        template = base.get("template", "") if template is None else template
        if not template.strip():
            raise Invalid("InvalidGlobalReplyTemplate", "template (the answer) cannot be empty")
        text = self._text(body, "templateText")
        customer = self._text(body, "customerText")
        return {
            "media": media, "template": template,
            "templateText": text if text is not None else (
                plain_text(template) if "template" in body or current is None else base["templateText"]),
            "customerText": customer if customer is not None else base.get("customerText", ""),
            "tags": self._tags(body["tags"]) if "tags" in body else base.get("tags", []),
            "queues": self._queues(caller, body["queues"], media) if "queues" in body
            else self._queues(caller, base.get("queues"), media, stored=True)}

    async def create(self, actor: Principal, body: dict[str, Any]) -> dict[str, Any]:
        caller = self._author(actor)
        fields = self._fields(caller, body, None)
        async with self.rt.write() as uow:
            now = self.rt.now_iso()
            site = next(iter(self.config.sites(caller.account_id)), None)
            doc = {"id": self.rt.ids.uuid(), "accountId": caller.account_id, "siteId": site["id"] if site else None,
                   "createdOn": now, "modifiedOn": now, **fields}
            uow.put(KIND, doc["id"], doc)
            uow.emit("cc.replytemplate.created", caller.account_id, f"/globalreplytemplates/{doc['id']}", doc, now)
            return doc

    async def update(self, actor: Principal, template_id: str, body: dict[str, Any]) -> dict[str, Any]:
        caller = self._author(actor)
        async with self.rt.write() as uow:
            current = self.get(actor, template_id)
            doc = {**current, **self._fields(caller, body, current), "modifiedOn": self.rt.now_iso()}
            uow.put(KIND, doc["id"], doc)
            uow.emit("cc.replytemplate.updated", caller.account_id, f"/globalreplytemplates/{doc['id']}", doc,
                     doc["modifiedOn"])
            return doc

    async def delete(self, actor: Principal, template_id: str) -> dict[str, Any]:
        caller = self._author(actor)
        async with self.rt.write() as uow:
            doc = self.get(actor, template_id)
            uow.delete(KIND, doc["id"])
            uow.emit("cc.replytemplate.deleted", caller.account_id, f"/globalreplytemplates/{doc['id']}", None,
                     self.rt.now_iso())
            return doc
