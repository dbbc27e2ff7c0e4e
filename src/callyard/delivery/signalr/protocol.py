"""The wire format of classic ASP.NET SignalR 2: protocol versions, the signed connection and groups tokens,
PersistentResponse framing and the hub invocation/result messages (shared/reference/signalr2-protocol.md)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

TRANSPORTS = ("webSockets", "serverSentEvents", "longPolling")
REFUSED_TRANSPORTS = ("foreverFrame",)
MIN_PROTOCOL = (1, 2)
MAX_PROTOCOL = (2, 0)
MAX_STATE_CHARS = 4096   # HubRequestParser: the hub state a client may send round-trips up to this size


class ProtocolError(Exception):
    """A request the protocol refuses: ``status`` is the HTTP status, ``message`` the text/plain body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def resolve_protocol(client_protocol: str | None) -> str:
    """The ``ProtocolVersion`` negotiate answers: the client's own ``clientProtocol`` clamped to [1.2, 2.0]
    (an unreadable or missing one is 1.2, as ProtocolResolver does). The JS clients of 2.0-2.2 demand
    exact equality, and 2.3+ (which sends 2.1) accepts 2.0, so echoing is what every client accepts."""
    try:
        parts = tuple(int(p) for p in (client_protocol or "").strip().split("."))
        if len(parts) != 2 or min(parts) < 0:
            raise ValueError
        version: tuple[int, ...] = parts
    except ValueError:
        version = MIN_PROTOCOL
    version = max(MIN_PROTOCOL, min(MAX_PROTOCOL, version))
    return f"{version[0]}.{version[1]}"


def delays_start(protocol: str) -> bool:
    """Protocol 1.4 and later send ``/start`` after the transport connects; older ones never do."""
    major, minor = (int(p) for p in protocol.split("."))
    return (major, minor) >= (1, 4)


# ---------------------------------------------------------------------------------------------- tokens
class Signer:
    """Protects the connection and groups tokens (HMAC-SHA256 over the payload, as ASP.NET's data protection
    does for ``connectionId:userName``): a client can read them but not forge or alter them."""

    def __init__(self, secret: bytes) -> None:
        self._key = secret

    def _mac(self, purpose: str, payload: bytes) -> str:
        digest = hmac.new(self._key, purpose.encode() + b"\0" + payload, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")

    def protect(self, purpose: str, value: str) -> str:
        payload = value.encode()
        body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return f"{body}.{self._mac(purpose, payload)}"

    def unprotect(self, purpose: str, token: str) -> str | None:
        body, dot, mac = token.strip().rpartition(".")
        if not dot or not body:
            return None
        try:
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except ValueError:
            return None
        if not hmac.compare_digest(mac, self._mac(purpose, payload)):
            return None
        try:
            return payload.decode()
        except UnicodeDecodeError:
            return None


CONNECTION_TOKEN = "SignalR.ConnectionToken"
GROUPS_TOKEN = "SignalR.Groups"


def connection_token(signer: Signer, connection_id: str, identity: str) -> str:
    return signer.protect(CONNECTION_TOKEN, f"{connection_id}:{identity}")


def read_connection_token(signer: Signer, token: str | None, identity: str) -> str:
    """The connection id a token names, for the caller ``identity``. 400 when it is missing, unreadable or
    altered; 403 when it was issued to someone else (PersistentConnection.GetConnectionId)."""
    if not token:
        raise ProtocolError(400, "The connection token is missing.")
    value = signer.unprotect(CONNECTION_TOKEN, token)
    if value is None or ":" not in value:
        raise ProtocolError(400, "The ConnectionId is in the incorrect format.")
    connection_id, _, owner = value.partition(":")
    if not hmac.compare_digest(owner.encode(), identity.encode()):
        raise ProtocolError(403, "Unrecognized user identity. The user identity cannot change during an active "
                                 "SignalR connection.")
    return connection_id


def groups_token(signer: Signer, connection_id: str, groups: list[str]) -> str:
    return signer.protect(GROUPS_TOKEN, f"{connection_id}:{dumps(sorted(groups))}")


def read_groups_token(signer: Signer, token: str | None, connection_id: str) -> list[str]:
    """The groups a groups token names, if it is intact and was issued to this connection; else none."""
    if not token:
        return []
    value = signer.unprotect(GROUPS_TOKEN, token)
    if value is None:
        return []
    owner, _, body = value.partition(":")
    if owner != connection_id:
        return []
    try:
        groups = json.loads(body)
    except ValueError:
        return []
    return [g for g in groups if isinstance(g, str)] if isinstance(groups, list) else []


# ---------------------------------------------------------------------------------------------- messages
def persistent_response(cursor: int, messages: list[str], *, initialized: bool = False,
                        groups: str | None = None, reconnect: bool = False, error: str | None = None) -> str:
    """``{"C": cursor, "S": 1?, "T": 1?, "G": groupsToken?, "E": error?, "M": [...]}``; ``messages`` are encoded
    already. An ``E`` makes the client stop the connection (jquery.signalR ``processMessages``)."""
    head = f'{{"C":"{cursor}"'
    if error is not None:
        head += ',"E":' + dumps(error)
    if initialized:
        head += ',"S":1'
    if reconnect:
        head += ',"T":1'
    if groups is not None:
        head += ',"G":' + dumps(groups)
    return head + ',"M":[' + ",".join(messages) + "]}"


def client_invocation(hub: str, method: str, args: list[Any]) -> str:
    """A server-to-client hub call, one element of a PersistentResponse's ``M``."""
    return dumps({"H": hub, "M": method, "A": args})


@dataclass
class Invocation:
    hub: str
    method: str
    args: list[Any]
    id: str
    state: dict[str, Any] | None


def parse_invocation(text: str) -> Invocation | None:
    """A client's hub invocation ``{"H","M","A","I","S"?}``; ``None`` for a keep-alive ``{}`` or anything that is
    not one (ignored, as the server ignores what it cannot route). Raises ``ProtocolError`` for JSON that
    names a callback id but is malformed otherwise (answered as a hub error by the caller)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or "I" not in data:
        return None
    callback = data.get("I")
    if not isinstance(callback, (str, int)) or isinstance(callback, bool):
        return None
    hub, method, args, state = data.get("H"), data.get("M"), data.get("A", []), data.get("S")
    if not isinstance(hub, str) or not isinstance(method, str) or not isinstance(args, list):
        return Invocation(hub=str(hub), method=str(method), args=[], id=str(callback), state=None)
    if state is not None and (not isinstance(state, dict) or len(dumps(state)) > MAX_STATE_CHARS):
        state = None
    return Invocation(hub=hub, method=method, args=args, id=str(callback), state=state)


def hub_result(callback_id: str, *, result: Any = None, error: str | None = None, hub_exception: bool = False,
               error_data: Any = None, state: dict[str, Any] | None = None) -> str:
    """``{"I": id, "R"?, "E"?, "H"?, "D"?, "S"?}`` with null members left out (HubResponse)."""
    body: dict[str, Any] = {"I": callback_id}
    if state is not None:
        body["S"] = state
    if error is not None:
        body["E"] = error
        if hub_exception:
            body["H"] = True
        if error_data is not None:
            body["D"] = error_data
    elif result is not None:
        body["R"] = result
    return dumps(body)
