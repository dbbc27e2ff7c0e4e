"""The service groups (``client.auth``, ``.admin``, ``.media``, ``.conversations``, ``.notifications``,
``.presence``), written once for both clients.

Each method describes its operation (an ``Op`` or a core flow) and hands it to the client's runner: the
sync client runs it and returns the JSON, the async client returns an awaitable of it. ``iter_*`` methods
return an iterator (sync) or an async iterator (async) over every item of every page, following
``_links.next``. Bodies are plain dicts, passed through as the service defines them.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Generic, Iterable, Mapping, Protocol, TypeVar
from urllib.parse import quote

from cloudlink_client.auth import Pkce
from cloudlink_client.core import Core, Flow, Op, odata
from cloudlink_client.times import iso_time

R = TypeVar("R", covariant=True)   # what a call returns: the JSON (sync) or an awaitable of it (async)
P = TypeVar("P", covariant=True)   # what a paging helper returns: Iterator / AsyncIterator of items

CALL_ACTIONS = ("answer", "end", "hold", "retrieve", "redirect", "blindTransfer", "consult", "supervisedTransfer",
                "conference", "dtmf", "pauseRecording", "resumeRecording", "tagRecording")


class Runner(Protocol[R, P]):
    core: Core

    def run(self, flow: Flow) -> R: ...

    def iterate(self, op: Op) -> P: ...

    def open_stream(self, subscription: dict[str, Any], **options: Any) -> Any: ...


def seg(value: str) -> str:
    """One path segment, escaped."""
    if not isinstance(value, str) or not value:
        raise ValueError("a path identifier must be a non-empty string")
    return quote(value, safe="")


def _body(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}



class _Group(Generic[R, P]):
    service = ""

    def __init__(self, runner: Runner[R, P]) -> None:
        self._runner = runner

    def _call(self, method: str, path: str, *, service: str | None = None, **kwargs: Any) -> R:
        op = Op(method, service or self.service, path, **kwargs)
        return self._runner.run(self._runner.core.call(op))

    def _iter(self, path: str, params: Mapping[str, Any] | None = None, service: str | None = None) -> P:
        return self._runner.iterate(Op("GET", service or self.service, path, params=params))


def _scope(account_id: str | None) -> str:
    return f"/accounts/{seg(account_id)}" if account_id else ""


# ---------------------------------------------------------------------------- authentication
class AuthService(_Group[R, P]):
    """Tokens and the authorization code flow (``https://authentication.api.mitel.io/2017-09-01``)."""

    service = "authentication"

    def login(self) -> R:
        """Obtain a token now with the configured grant (otherwise the first call does it)."""
        return self._runner.run(self._runner.core.renew(force=True))

    def refresh(self) -> R:
        """Renew the token now (refresh_token grant, or the original grant again); returns the access token."""
        return self._runner.run(self._runner.core.renew(force=True))

    def access_token(self) -> R:
        """A current access token, renewed first when it is due (for transports the SDK does not drive)."""
        return self._runner.run(self._runner.core.valid_token())

    def claims(self) -> R:
        """``GET /token``: the claims of the current token, as the service reads them (tokens are never
        decoded here)."""
        return self._call("GET", "/token")

    def token(self, form: Mapping[str, str]) -> R:
        """``POST /token`` with any grant's form; the token becomes the client's token."""
        return self._runner.run(self._runner.core.token_request(dict(form)))

    def authorize(self, *, client_id: str, username: str, password: str, redirect_uri: str | None = None,
                  pkce: Pkce | None = None, account_id: str | None = None, scope: str | None = None,
                  nonce: str | None = None) -> R:
        """``POST /authorize`` (response_type code): the authorization code, ``{"code": …}``. With ``pkce``
        (``make_pkce()``) the S256 challenge is sent; keep the verifier for ``exchange_code``."""
        form = _body({"client_id": client_id, "response_type": "code", "username": username, "password": password,
                      "redirect_uri": redirect_uri, "account_id": account_id, "scope": scope, "nonce": nonce,
                      "code_challenge": pkce.challenge if pkce else None,
                      "code_challenge_method": pkce.method if pkce else None})
        return self._call("POST", "/authorize", form=form, auth=False)

    def exchange_code(self, *, client_id: str, code: str, redirect_uri: str | None = None,
                      code_verifier: str | None = None, client_secret: str | None = None) -> R:
        """``grant_type=authorization_code``: exchange the code (with the PKCE verifier); the token becomes
        the client's token and is refreshed with its refresh token from then on."""
        form = _body({"grant_type": "authorization_code", "client_id": client_id, "code": code,
                      "redirect_uri": redirect_uri, "code_verifier": code_verifier, "client_secret": client_secret})
        return self._runner.run(self._runner.core.token_request(form))


# ---------------------------------------------------------------------------- admin
class AdminService(_Group[R, P]):
    """Accounts, users, groups and members, contacts, clients and applications
    (``https://admin.api.mitel.io/2017-09-01``; applications are on the authentication service)."""

    service = "admin"

    # accounts
    def list_accounts(self, **query: Any) -> R:
        return self._call("GET", "/accounts", params=odata(**query))

    def iter_accounts(self, **query: Any) -> P:
        return self._iter("/accounts", odata(**query))

    def get_account(self, account_id: str, **query: Any) -> R:
        return self._call("GET", f"/accounts/{seg(account_id)}", params=odata(**query))

    def create_account(self, account: Mapping[str, Any]) -> R:
        return self._call("POST", "/accounts", json=dict(account))

    def update_account(self, account_id: str, changes: Mapping[str, Any]) -> R:
        return self._call("PUT", f"/accounts/{seg(account_id)}", json=dict(changes))

    def delete_account(self, account_id: str) -> R:
        return self._call("DELETE", f"/accounts/{seg(account_id)}")

    # users
    def list_users(self, account_id: str | None = None, **query: Any) -> R:
        """Users of ``account_id`` (``/accounts/{accountId}/users``), or of the token's account (``/users``)."""
        return self._call("GET", f"{_scope(account_id)}/users", params=odata(**query))

    def iter_users(self, account_id: str | None = None, **query: Any) -> P:
        return self._iter(f"{_scope(account_id)}/users", odata(**query))

    def get_user(self, user_id: str, account_id: str | None = None, **query: Any) -> R:
        return self._call("GET", f"{_scope(account_id)}/users/{seg(user_id)}", params=odata(**query))

    def create_user(self, account_id: str, user: Mapping[str, Any]) -> R:
        """``POST /accounts/{accountId}/users`` — the recommended route (seed 000); ``email`` is required."""
        return self._call("POST", f"/accounts/{seg(account_id)}/users", json=dict(user))

    def update_user(self, user_id: str, changes: Mapping[str, Any], account_id: str | None = None) -> R:
        return self._call("PUT", f"{_scope(account_id)}/users/{seg(user_id)}", json=dict(changes))

    def delete_user(self, user_id: str, account_id: str | None = None) -> R:
        return self._call("DELETE", f"{_scope(account_id)}/users/{seg(user_id)}")

    def bulk_users(self, account_id: str, operations: Iterable[Mapping[str, Any]]) -> R:
        """``PATCH /accounts/{accountId}/users``: ``[{op: create|update|delete, id, body}]`` → per-operation
        ``statusCode``, ``headers``, ``body``."""
        return self._call("PATCH", f"/accounts/{seg(account_id)}/users",
                          json={"operations": [dict(o) for o in operations]})

    def send_welcome(self, account_id: str, user_id: str, language_code: str | None = None) -> R:
        body = {"languageCode": language_code} if language_code else None
        return self._call("POST", f"/accounts/{seg(account_id)}/users/{seg(user_id)}/welcome", json=body)

    def put_user_photo(self, user_id: str, image: bytes, content_type: str = "image/png",
                       account_id: str | None = None) -> R:
        return self._call("PUT", f"{_scope(account_id)}/users/{seg(user_id)}/photo", content=image,
                          content_type=content_type)

    def delete_user_photo(self, user_id: str, account_id: str | None = None) -> R:
        return self._call("DELETE", f"{_scope(account_id)}/users/{seg(user_id)}/photo")

    # groups. Users, groups and contacts are account-scoped collections with the same operations; each one
    # stays an explicit, typed one-line method naming its route, so their likeness is the API's, not logic.
    def list_groups(self, account_id: str | None = None, **query: Any) -> R:
        return self._call("GET", f"{_scope(account_id)}/groups", params=odata(**query))

    def iter_groups(self, account_id: str | None = None, **query: Any) -> P:
        return self._iter(f"{_scope(account_id)}/groups", odata(**query))

    def get_group(self, group_id: str, account_id: str | None = None) -> R:
        return self._call("GET", f"{_scope(account_id)}/groups/{seg(group_id)}")

    def create_group(self, group: Mapping[str, Any], account_id: str | None = None) -> R:
        return self._call("POST", f"{_scope(account_id)}/groups", json=dict(group))

    def update_group(self, group_id: str, changes: Mapping[str, Any], account_id: str | None = None) -> R:
        return self._call("PUT", f"{_scope(account_id)}/groups/{seg(group_id)}", json=dict(changes))

    def delete_group(self, group_id: str, account_id: str | None = None) -> R:
        return self._call("DELETE", f"{_scope(account_id)}/groups/{seg(group_id)}")

    def list_members(self, group_id: str, account_id: str | None = None, **query: Any) -> R:
        return self._call("GET", f"{_scope(account_id)}/groups/{seg(group_id)}/members", params=odata(**query))

    def iter_members(self, group_id: str, account_id: str | None = None, **query: Any) -> P:
        return self._iter(f"{_scope(account_id)}/groups/{seg(group_id)}/members", odata(**query))

    def add_members(self, group_id: str, members: Mapping[str, Any] | Iterable[Mapping[str, Any]],
                    account_id: str | None = None) -> R:
        """Add one member (``{memberId, status, type}``) or several (a list)."""
        body: Any = dict(members) if isinstance(members, Mapping) else [dict(m) for m in members]
        return self._call("POST", f"{_scope(account_id)}/groups/{seg(group_id)}/members", json=body)

    def remove_member(self, group_id: str, member_id: str, account_id: str | None = None) -> R:
        return self._call("DELETE", f"{_scope(account_id)}/groups/{seg(group_id)}/members/{seg(member_id)}")

    # contacts
    def list_contacts(self, account_id: str | None = None, **query: Any) -> R:
        return self._call("GET", f"{_scope(account_id)}/contacts", params=odata(**query))

    def iter_contacts(self, account_id: str | None = None, **query: Any) -> P:
        return self._iter(f"{_scope(account_id)}/contacts", odata(**query))

    def get_contact(self, contact_id: str, account_id: str | None = None) -> R:
        return self._call("GET", f"{_scope(account_id)}/contacts/{seg(contact_id)}")

    def create_contact(self, contact: Mapping[str, Any], account_id: str | None = None) -> R:
        return self._call("POST", f"{_scope(account_id)}/contacts", json=dict(contact))

    def update_contact(self, contact_id: str, changes: Mapping[str, Any], account_id: str | None = None) -> R:
        return self._call("PUT", f"{_scope(account_id)}/contacts/{seg(contact_id)}", json=dict(changes))

    def delete_contact(self, contact_id: str, account_id: str | None = None) -> R:
        return self._call("DELETE", f"{_scope(account_id)}/contacts/{seg(contact_id)}")

    # clients (client_credentials) and applications
    def list_clients(self, account_id: str, **query: Any) -> R:
        return self._call("GET", f"/accounts/{seg(account_id)}/clients", params=odata(**query))

    def create_client(self, account_id: str, client: Mapping[str, Any]) -> R:
        """The answer carries ``clientSecret`` once."""
        return self._call("POST", f"/accounts/{seg(account_id)}/clients", json=dict(client))

    def get_client(self, account_id: str, client_id: str) -> R:
        return self._call("GET", f"/accounts/{seg(account_id)}/clients/{seg(client_id)}")

    def delete_client(self, account_id: str, client_id: str) -> R:
        return self._call("DELETE", f"/accounts/{seg(account_id)}/clients/{seg(client_id)}")

    def list_applications(self, **query: Any) -> R:
        """``GET /apps`` (authentication service): applications of the caller's account."""
        return self._call("GET", "/apps", service="authentication", params=odata(**query))

    def get_application(self, application_id: str) -> R:
        return self._call("GET", f"/applications/{seg(application_id)}", service="authentication")

    def enable_application(self, application_id: str, settings: Mapping[str, Any]) -> R:
        """``PUT /applications/{applicationId}`` — enable an application on an account (seed 002's
        registration step: ``{name, active, redirectUris, accountId, description}``)."""
        return self._call("PUT", f"/applications/{seg(application_id)}", service="authentication",
                          json=dict(settings))

    def delete_application(self, application_id: str, account_id: str | None = None) -> R:
        body = {"accountId": account_id} if account_id else None
        return self._call("DELETE", f"/applications/{seg(application_id)}", service="authentication", json=body)


# ---------------------------------------------------------------------------- media
class MediaService(_Group[R, P]):
    """Endpoints and call control, call history, recordings (``https://media.api.mitel.io/2017-09-01``)."""

    service = "media"

    def get_endpoint(self, endpoint_id: str) -> R:
        return self._call("GET", f"/endpoints/{seg(endpoint_id)}")

    def update_endpoint(self, endpoint_id: str, action: str, user_availability: str, enabled: bool = False) -> R:
        """``action``: dnd, messageWaiting or pstnRouting; ``user_availability``: available, busy, dnd, away."""
        return self._call("PUT", f"/endpoints/{seg(endpoint_id)}",
                          json={"action": action, "userAvailability": user_availability, "enabled": enabled})

    def list_calls(self, endpoint_id: str, **query: Any) -> R:
        return self._call("GET", f"/endpoints/{seg(endpoint_id)}/calls", params=odata(**query))

    def iter_calls(self, endpoint_id: str, **query: Any) -> P:
        return self._iter(f"/endpoints/{seg(endpoint_id)}/calls", odata(**query))

    def get_call(self, endpoint_id: str, call_id: str) -> R:
        return self._call("GET", f"/endpoints/{seg(endpoint_id)}/calls/{seg(call_id)}")

    def make_call(self, endpoint_id: str, to: str, *, from_: str | None = None, from_name: str | None = None,
                  record: bool | None = None, originate_timeout: float | None = None,
                  associated_call_id: str | None = None, execute_on_answer: str | None = None,
                  success_url: str | None = None, failure_url: str | None = None) -> R:
        """``POST /endpoints/{endpointId}/calls`` (Make Call)."""
        body = _body({"to": to, "from": from_, "fromName": from_name, "record": record,
                      "originateTimeout": originate_timeout, "associatedCallId": associated_call_id,
                      "executeOnAnswer": execute_on_answer, "successUrl": success_url, "failureUrl": failure_url})
        return self._call("POST", f"/endpoints/{seg(endpoint_id)}/calls", json=body, call_id=associated_call_id)

    def update_call(self, endpoint_id: str, call_id: str, action: str, args: str | None = None,
                    **extra: str) -> R:
        """``PUT /endpoints/{endpointId}/calls/{callId}`` with ``{action, args}`` (Change an Active Call State)."""
        if action not in CALL_ACTIONS:
            raise ValueError(f"action must be one of {', '.join(CALL_ACTIONS)}")
        body = _body({"action": action, "args": args, **extra})
        return self._call("PUT", f"/endpoints/{seg(endpoint_id)}/calls/{seg(call_id)}", json=body, call_id=call_id)

    def answer(self, endpoint_id: str, call_id: str) -> R:
        return self.update_call(endpoint_id, call_id, "answer")

    def end(self, endpoint_id: str, call_id: str) -> R:
        return self.update_call(endpoint_id, call_id, "end")

    def hold(self, endpoint_id: str, call_id: str) -> R:
        return self.update_call(endpoint_id, call_id, "hold")

    def retrieve(self, endpoint_id: str, call_id: str) -> R:
        return self.update_call(endpoint_id, call_id, "retrieve")

    def redirect(self, endpoint_id: str, call_id: str, destination: str) -> R:
        """A ringing call to another number (the seed 000 tutorial's ``{"action": "redirect", "destination"}``)."""
        return self.update_call(endpoint_id, call_id, "redirect", destination=destination)

    def blind_transfer(self, endpoint_id: str, call_id: str, destination: str) -> R:
        return self.update_call(endpoint_id, call_id, "blindTransfer", destination)

    def consult(self, endpoint_id: str, call_id: str, destination: str) -> R:
        return self.update_call(endpoint_id, call_id, "consult", destination)

    def supervised_transfer(self, endpoint_id: str, consult_call_id: str, original_call_id: str) -> R:
        """On the consultation call: ``args`` is the original (held) call's id (seed 000)."""
        return self.update_call(endpoint_id, consult_call_id, "supervisedTransfer", original_call_id)

    def conference(self, endpoint_id: str, call_id: str, other_call_id: str) -> R:
        return self.update_call(endpoint_id, call_id, "conference", other_call_id)

    def dtmf(self, endpoint_id: str, call_id: str, digits: str) -> R:
        return self.update_call(endpoint_id, call_id, "dtmf", digits)

    def pause_recording(self, endpoint_id: str, call_id: str) -> R:
        return self.update_call(endpoint_id, call_id, "pauseRecording")

    def resume_recording(self, endpoint_id: str, call_id: str) -> R:
        return self.update_call(endpoint_id, call_id, "resumeRecording")

    def tag_recording(self, endpoint_id: str, call_id: str, tag: str) -> R:
        return self.update_call(endpoint_id, call_id, "tagRecording", tag)

    # call history
    def list_call_records(self, **query: Any) -> R:
        """``GET /calls/records`` (``filter="contains(principal, '…')"``, ``top``, ``skip``)."""
        return self._call("GET", "/calls/records", params=odata(**query))

    def iter_call_records(self, **query: Any) -> P:
        return self._iter("/calls/records", odata(**query))

    def get_call_records(self, call_id: str, **query: Any) -> R:
        return self._call("GET", f"/calls/{seg(call_id)}/records", params=odata(**query), call_id=call_id)

    def hide_call_records(self, hide: bool = True, filter: str | None = None) -> R:
        return self._call("PUT", "/calls/records", params=odata(filter=filter), json={"hide": hide})

    def hide_call_record(self, call_id: str, hide: bool = True) -> R:
        return self._call("PUT", f"/calls/{seg(call_id)}/records", json={"hide": hide}, call_id=call_id)

    # recordings
    def list_recordings(self, **query: Any) -> R:
        return self._call("GET", "/recordings", params=odata(**query))

    def iter_recordings(self, **query: Any) -> P:
        return self._iter("/recordings", odata(**query))

    def get_recording(self, recording_id: str, media: bool = False) -> R:
        """With ``media=True`` the answer embeds a signed, time-limited URL of the audio."""
        return self._call("GET", f"/recordings/{seg(recording_id)}", params={"$expand": "media"} if media else None)

    def update_recording(self, recording_id: str, label: str) -> R:
        return self._call("PUT", f"/recordings/{seg(recording_id)}", json={"label": label})

    def delete_recording(self, recording_id: str) -> R:
        return self._call("DELETE", f"/recordings/{seg(recording_id)}")


# ---------------------------------------------------------------------------- conversations
class ConversationsService(_Group[R, P]):
    """Chat (``https://chat.api.mitel.io/2017-09-01``)."""

    service = "chat"

    def create_conversation(self, conversation: Mapping[str, Any] | None = None, *,
                            participants: Iterable[str] | None = None, **fields: Any) -> R:
        """``POST /conversations``. ``participants`` (user ids) become ``originalParticipants``
        ``[{type: USER, participantId}]``; other fields (``name``, ``stream``, ``visibility`` …) pass through."""
        body = dict(conversation or {})
        body.update(_body(fields))
        if participants is not None:
            body["originalParticipants"] = [{"type": "USER", "participantId": p} for p in participants]
        return self._call("POST", "/conversations", json=body)

    def list_conversations(self, **query: Any) -> R:
        return self._call("GET", "/conversations", params=odata(**query))

    def iter_conversations(self, **query: Any) -> P:
        return self._iter("/conversations", odata(**query))

    def my_conversations(self, **query: Any) -> R:
        return self._call("GET", "/users/me/conversations", params=odata(**query))

    def get_conversation(self, conversation_id: str) -> R:
        return self._call("GET", f"/conversations/{seg(conversation_id)}")

    def update_conversation(self, conversation_id: str, changes: Mapping[str, Any]) -> R:
        return self._call("PUT", f"/conversations/{seg(conversation_id)}", json=dict(changes))

    def delete_conversation(self, conversation_id: str) -> R:
        return self._call("DELETE", f"/conversations/{seg(conversation_id)}")

    # participants
    def list_participants(self, conversation_id: str, **query: Any) -> R:
        return self._call("GET", f"/conversations/{seg(conversation_id)}/participants", params=odata(**query))

    def add_participant(self, conversation_id: str, participant_id: str, status: str | None = None) -> R:
        """Invite (``status="INVITED"``) or add (``"ACCEPTED"``) a user; the caller's own id joins a public
        stream."""
        body = _body({"type": "USER", "participantId": participant_id, "status": status})
        return self._call("POST", f"/conversations/{seg(conversation_id)}/participants", json=body)

    def get_participant(self, conversation_id: str, participant_id: str) -> R:
        return self._call("GET", f"/conversations/{seg(conversation_id)}/participants/{seg(participant_id)}")

    def respond(self, conversation_id: str, participant_id: str, status: str) -> R:
        """Accept (``ACCEPTED``) or decline (``DECLINED``) one's invitation."""
        return self._call("PUT", f"/conversations/{seg(conversation_id)}/participants/{seg(participant_id)}",
                          json={"status": status})

    def remove_participant(self, conversation_id: str, participant_id: str) -> R:
        return self._call("DELETE", f"/conversations/{seg(conversation_id)}/participants/{seg(participant_id)}")

    # messages
    def post_message(self, conversation_id: str, body: Any, *, content_type: str | None = "text/plain",
                     fallback_text: str | None = None, tag: str | None = None,
                     attachments: Iterable[Mapping[str, Any]] | None = None) -> R:
        """``POST /conversations/{id}/messages``; the sender is the token's principal."""
        message = _body({"body": body, "contentType": content_type, "fallbackText": fallback_text, "tag": tag,
                         "attachments": [dict(a) for a in attachments] if attachments is not None else None})
        return self._call("POST", f"/conversations/{seg(conversation_id)}/messages", json=message)

    def list_messages(self, conversation_id: str, start_date: str | None = None, end_date: str | None = None,
                      **query: Any) -> R:
        params = odata(**query, startDate=start_date, endDate=end_date)
        return self._call("GET", f"/conversations/{seg(conversation_id)}/messages", params=params)

    def iter_messages(self, conversation_id: str, start_date: str | None = None, end_date: str | None = None,
                      **query: Any) -> P:
        params = odata(**query, startDate=start_date, endDate=end_date)
        return self._iter(f"/conversations/{seg(conversation_id)}/messages", params)

    def get_message(self, conversation_id: str, message_id: str) -> R:
        return self._call("GET", f"/conversations/{seg(conversation_id)}/messages/{seg(message_id)}")

    def edit_message(self, conversation_id: str, message_id: str, changes: Mapping[str, Any]) -> R:
        return self._call("PUT", f"/conversations/{seg(conversation_id)}/messages/{seg(message_id)}",
                          json=dict(changes))

    def delete_message(self, conversation_id: str, message_id: str) -> R:
        return self._call("DELETE", f"/conversations/{seg(conversation_id)}/messages/{seg(message_id)}")

    def transcript(self, conversation_id: str, content_type: str | None = None, start_date: str | None = None,
                   end_date: str | None = None) -> R:
        """``POST /conversations/{id}/transcripts``: text/html (the default), text/plain (a str) or
        application/json (a dict)."""
        body = _body({"contentType": content_type, "startDate": start_date, "endDate": end_date})
        return self._call("POST", f"/conversations/{seg(conversation_id)}/transcripts", json=body)


# ---------------------------------------------------------------------------- notifications
class NotificationsService(_Group[R, P]):
    """Subscriptions and connections (``https://notifications.api.mitel.io/2017-09-01``). WebSocket
    delivery (MQTT over WebSocket) is ``client.notifications.stream(...)``."""

    service = "notifications"

    def create_subscription(self, subscription: Mapping[str, Any] | None = None, **fields: Any) -> R:
        """``POST /subscriptions`` (``applicationId``, ``deviceId``, ``transport``, ``topic``,
        ``subjectFilter``, ``publicationFilter``, ``methodFilter``, ``connectionId``, ``expiryDateTime``).
        A webhook subscription's answer carries its ``signingSecret`` once: keep it for ``verify_webhook``."""
        return self._call("POST", "/subscriptions", json={**dict(subscription or {}), **_body(fields)})

    def list_subscriptions(self, **query: Any) -> R:
        return self._call("GET", "/subscriptions", params=odata(**query))

    def iter_subscriptions(self, **query: Any) -> P:
        return self._iter("/subscriptions", odata(**query))

    def get_subscription(self, subscription_id: str) -> R:
        return self._call("GET", f"/subscriptions/{seg(subscription_id)}")

    def update_subscription(self, subscription_id: str, changes: Mapping[str, Any]) -> R:
        """Change filters, or renew with a new ``expiryDateTime``."""
        return self._call("PUT", f"/subscriptions/{seg(subscription_id)}", json=dict(changes))

    def delete_subscription(self, subscription_id: str) -> R:
        return self._call("DELETE", f"/subscriptions/{seg(subscription_id)}")

    def create_connection(self, transport: str = "websocket", expiry: datetime | str | None = None) -> R:
        """``POST /connections``: ``{connectionId, url, expiryDateTime, …}``; ``url`` is the MQTT-over-WebSocket
        endpoint. ``expiry`` (a datetime, or an ISO 8601 string) sets ``expiryDateTime``; without it the
        service's default applies (24 h on the twin). A connection cannot be renewed: create another one and
        move the subscription to it (``update_subscription(id, {"connectionId": …})``)."""
        return self._call("POST", "/connections",
                          json=_body({"transport": transport, "expiryDateTime": iso_time(expiry)}))

    def list_connections(self, **query: Any) -> R:
        return self._call("GET", "/connections", params=odata(**query))

    def get_connection(self, connection_id: str) -> R:
        return self._call("GET", f"/connections/{seg(connection_id)}")

    def delete_connection(self, connection_id: str) -> R:
        return self._call("DELETE", f"/connections/{seg(connection_id)}")

    def stream(self, topic: str, *, subject_filter: str | None = None, publication_filter: str | None = None,
               method_filter: str | None = None, application_id: str | None = None,
               on_publication: Any = None, qos: int = 1, cleanup: bool = True,
               lifetime: float | timedelta | None = None, auto_renew: bool = True) -> Any:
        """WebSocket delivery, the platform's way: create a connection (``POST /connections``), a
        ``websocket`` subscription naming it (expiring with it), connect an MQTT client to the connection's
        URL with the access token as password and MQTT-subscribe to the subscriptionId. Returns a started
        stream (``NotificationStream``; ``AsyncNotificationStream`` from the async client, as an awaitable)
        that delivers each publication to ``on_publication`` or, without one, to its iterator. It reconnects
        after a drop with the seed 002 spacing and a refreshed token, and (``auto_renew``) renews the
        connection and the subscription when 80 % of their lifetime has passed — ``lifetime`` seconds, or
        the service's default — and re-creates them when they expired anyway; ``stream.renew()`` renews
        now. ``close()`` deletes the subscription and the connection when ``cleanup``."""
        subscription = _body({"topic": topic, "subjectFilter": subject_filter, "publicationFilter": publication_filter,
                              "methodFilter": method_filter, "applicationId": application_id})
        return self._runner.open_stream(subscription, on_publication=on_publication, qos=qos, cleanup=cleanup,
                                        lifetime=lifetime, auto_renew=auto_renew)


# ---------------------------------------------------------------------------- presence
class PresenceService(_Group[R, P]):
    """Presentities (``https://presence.api.mitel.io/2017-09-01``)."""

    service = "presence"

    def get(self, principal_id: str = "me") -> R:
        return self._call("GET", f"/presentities/{seg(principal_id)}")

    def update(self, principal_id: str = "me", *, status: str | None = None, reason: str | None = None,
               note: str | None = None, work_mode: str | None = None) -> R:
        """``status``: available, busy, dnd, away, offline; ``work_mode``: office, remote, mobile."""
        body = _body({"status": status, "reason": reason, "note": note, "workMode": work_mode})
        return self._call("PUT", f"/presentities/{seg(principal_id)}", json=body)

    def list(self, principal_ids: Iterable[str] | None = None, **query: Any) -> R:
        ids = ",".join(principal_ids) if principal_ids is not None else None
        return self._call("GET", "/presentities", params=odata(**query, principalIds=ids))

    def iter(self, principal_ids: Iterable[str] | None = None, **query: Any) -> P:
        ids = ",".join(principal_ids) if principal_ids is not None else None
        return self._iter("/presentities", odata(**query, principalIds=ids))
