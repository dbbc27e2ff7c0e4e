"""MQTT over WebSocket delivery of CloudLink Notifications (reference/cloudlink-apis.md §5).

The platform's flow: ``POST /connections {"transport": "websocket"}`` answers with a WebSocket URL → a
subscription names that ``connectionId`` → an MQTT client (Mitel's samples use paho-mqtt with
``transport="websockets"``) connects to the URL and MQTT-subscribes to the topic named by the
``subscriptionId`` → each matching publication arrives as a PUBLISH whose payload is the JSON envelope, the
same body a webhook receives.

Design: the app serves the WebSocket itself (``/_callyard/mqtt/{connectionId}``, subprotocol ``mqtt``,
mounted by app.py), every MQTT 3.1.1 packet is decoded and encoded by amqtt's packet classes
(``amqtt.mqtt``: the codec of a maintained broker — no framing is written here), and this module keeps the
broker side of the session. Chosen over embedding amqtt's broker because what the twin needs from a broker
is bound to its own state, not to a message bus:

* one port and one origin: the URL is built from the host the ``POST /connections`` came to, so it works
  behind the same proxy, TLS terminator or ``HostRouting`` as the REST API, with no second listener to
  configure, expose or find a free port for;
* authentication is the CloudLink access token itself (MQTT password, or ``Authorization: Bearer`` on the
  upgrade), checked by the same code as every REST request; a session is bound to its principal and
  connection, closes when the token expires on the twin's clock (``--clock manual`` included) and when the
  connection is deleted — with an embedded broker each of these would reach into its private session table;
* topics are not free-form: a client may subscribe only to its own live websocket subscriptions, refused
  otherwise (SUBACK 0x80), and a publication reaches the sessions of its subscription directly from the
  commit that produced it, without a broker's queue and task hop in between (the latency target is 10 ms).

Supported:

* MQTT 3.1.1 (protocol level 4; level 3 "MQIsdp" is accepted too). CONNACK 0 accepted; 1 another protocol
  (MQTT 5 clients get this, as from a 3.1.1 broker); 2 empty client id with clean session 0; 4 bad user
  name or password (the token is invalid or expired); 5 not authorized (no token, or the connection is not
  the principal's or is gone).
* SUBSCRIBE / UNSUBSCRIBE to topic = subscriptionId, QoS 0 and 1 granted (QoS 2 is granted as 1, as
  the protocol allows); wildcards and other principals' subscriptions are refused (0x80).
* Delivery at QoS 0 (fire and forget) or QoS 1: a packet id per message, held in flight until PUBACK; at
  most ``MAX_INFLIGHT`` unacknowledged, the rest wait in order.
* Sessions: clean session 1 ends with the network connection; clean session 0 keeps the subscriptions and
  the QoS 1 messages (unacknowledged ones, and up to ``MAX_BACKLOG`` that arrive while the client is away)
  in memory: on reconnect CONNACK says session present, unacknowledged messages are sent again with DUP and
  their packet ids, then the rest. A persistent session lives while its connection lives, within this
  process (a restart forgets it). A second CONNECT with the same client id takes the session over.
* Keep-alive: PINGREQ → PINGRESP; no packet for 1.5 × the keep-alive closes the connection.
* DISCONNECT (clean) and a dropped socket (unclean) both end the network connection; wills are accepted and
  never published (nothing may subscribe to a will topic here), retained messages do not exist.
* Clients publishing: QoS 0 dropped, QoS 1 PUBACKed, QoS 2 PUBREC/PUBCOMP, and the message dropped — the
  endpoint only delivers.
* The server closes the WebSocket with 4401 when the token expires and 4404 when the connection is deleted
  or expires (MQTT 3.1.1 has no server DISCONNECT: the network connection is closed).
"""
from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from typing import Any

from amqtt.adapters import ReaderAdapter
from amqtt.errors import AMQTTError, CodecError, MQTTError, NoDataError
from amqtt.mqtt import packet_class
from amqtt.mqtt.connack import ConnackPacket
from amqtt.mqtt.connect import ConnectPacket
from amqtt.mqtt.packet import (DISCONNECT, PINGREQ, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBSCRIBE,
                               UNSUBSCRIBE, MQTTFixedHeader, MQTTPacket)
from amqtt.mqtt.pingresp import PingRespPacket
from amqtt.mqtt.puback import PubackPacket
from amqtt.mqtt.pubcomp import PubcompPacket
from amqtt.mqtt.publish import PublishPacket
from amqtt.mqtt.pubrec import PubrecPacket
from amqtt.mqtt.suback import SubackPacket
from amqtt.mqtt.unsuback import UnsubackPacket
from starlette.websockets import WebSocket

from callyard.core.errors import CoreError
from callyard.delivery.live import EnvelopeEncoder, Link, Sweeper, bearer

log = logging.getLogger("callyard.delivery.mqtt")

PROTOCOLS = {("MQTT", 4), ("MQIsdp", 3)}
CONNECT_TIMEOUT = 10.0     # seconds for the CONNECT after the upgrade
MAX_INFLIGHT = 1_000       # QoS 1 messages sent and not yet acknowledged, per session
MAX_BACKLOG = 10_000       # QoS 1 messages waiting (window full, or the client away), per session
# Packet limits (issue 13): the remaining length a client may declare. A CONNECT carries an access token (a few
# KiB); after it a client sends only small control packets (and PUBLISHes that are dropped).
MAX_CONNECT_PACKET = 64 * 1024
MAX_PACKET = 256 * 1024
REFUSED = 0x80
_DECODE_ERRORS = (AMQTTError, MQTTError, CodecError, NoDataError, ValueError, UnicodeDecodeError)
_PINGRESP = PingRespPacket.build().to_bytes()

# CONNACK return codes (MQTT 3.1.1 §3.2.2.3)
ACCEPTED, BAD_PROTOCOL, BAD_CLIENT_ID, BAD_CREDENTIALS, NOT_AUTHORIZED = 0, 1, 2, 4, 5


class _SocketStream(ReaderAdapter):
    """The binary messages of a WebSocket as one byte stream: MQTT packets need not line up with messages
    [MQTT-6.0.0-2]. A text message ends the stream [MQTT-6.0.0-1]."""

    def __init__(self, websocket: WebSocket) -> None:
        self.ws = websocket
        self.buffer = bytearray()
        self.eof = False
        self.limit = MAX_CONNECT_PACKET   # the largest packet accepted now (raised after CONNECT)

    async def read(self, n: int = -1) -> bytes:
        while (n < 0 or len(self.buffer) < n) and not self.eof:
            message = await self.ws.receive()
            data = message.get("bytes") if message["type"] == "websocket.receive" else None
            if data is None:
                self.eof = True
                break
            if len(self.buffer) + len(data) > 2 * self.limit:
                raise ValueError("more unread bytes than any acceptable packet")
            self.buffer += data
            if n < 0:
                break
        n = len(self.buffer) if n < 0 else min(n, len(self.buffer))
        out = bytes(self.buffer[:n])
        del self.buffer[:n]
        return out

    def feed_eof(self) -> None:
        self.eof = True


class _Bytes(ReaderAdapter):
    """One packet's remaining bytes: decoding stays inside the length its fixed header declared."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    async def read(self, n: int = -1) -> bytes:
        end = len(self.data) if n < 0 else self.pos + n
        out = self.data[self.pos:end]
        self.pos += len(out)
        return out

    def feed_eof(self) -> None:
        self.pos = len(self.data)


async def read_packet(stream: _SocketStream) -> MQTTPacket[Any, Any, Any] | None:
    """The next packet, or None at the end of the stream. Raises one of ``_DECODE_ERRORS`` when malformed."""
    header = await MQTTFixedHeader.from_stream(stream)
    if header is None:
        return None
    if header.remaining_length > stream.limit:
        raise ValueError(f"packet of {header.remaining_length} bytes; at most {stream.limit} here")
    body = await stream.read(header.remaining_length) if header.remaining_length else b""
    if len(body) < header.remaining_length:
        return None
    return await packet_class(header).from_stream(_Bytes(body), fixed_header=header)


def _publish(topic: str, payload: bytes, packet_id: int | None, dup: bool = False) -> bytes:
    return PublishPacket.build(topic, payload, packet_id, dup, 0 if packet_id is None else 1, False).to_bytes()


class MqttSession:
    """The broker side of one client's MQTT session: its subscriptions (subscriptionId → granted QoS) and
    its QoS 1 messages. ``link`` is the network connection currently attached, if any."""

    def __init__(self, key: tuple[str, str, str], account_id: str, principal_id: str, connection_id: str,
                 persistent: bool) -> None:
        self.key = key
        self.account_id = account_id
        self.principal_id = principal_id
        self.connection_id = connection_id
        self.persistent = persistent
        self.topics: dict[str, int] = {}
        self.inflight: OrderedDict[int, tuple[str, bytes]] = OrderedDict()
        self.backlog: deque[tuple[str, bytes]] = deque()
        self.link: Link | None = None
        self.dropped = 0
        self._last_id = 0

    def online(self) -> bool:
        return self.link is not None and not self.link.closing

    def deliver(self, topic: str, payload: bytes) -> None:
        qos = self.topics.get(topic)
        if qos is None:
            return
        if qos == 0:
            if self.online():
                assert self.link is not None
                self.link.send(_publish(topic, payload, None))
            return
        if self.online() and not self.backlog and len(self.inflight) < MAX_INFLIGHT:
            self._send(topic, payload)
            return
        if len(self.backlog) >= MAX_BACKLOG:
            self.backlog.popleft()
            self.dropped += 1
        self.backlog.append((topic, payload))

    def _send(self, topic: str, payload: bytes) -> None:
        assert self.link is not None
        packet_id = self._next_id()
        self.inflight[packet_id] = (topic, payload)
        self.link.send(_publish(topic, payload, packet_id))

    def _next_id(self) -> int:
        while True:  # MAX_INFLIGHT < 65535: a free id always exists
            self._last_id = self._last_id % 65535 + 1
            if self._last_id not in self.inflight:
                return self._last_id

    def acknowledged(self, packet_id: int) -> None:
        self.inflight.pop(packet_id, None)
        self.pump()

    def pump(self) -> None:
        while self.backlog and self.online() and len(self.inflight) < MAX_INFLIGHT:
            self._send(*self.backlog.popleft())

    def resume(self) -> None:
        """A persistent session is back: unacknowledged messages again, with DUP and their ids [MQTT-4.4.0-1]."""
        assert self.link is not None
        for packet_id, (topic, payload) in self.inflight.items():
            self.link.send(_publish(topic, payload, packet_id, dup=True))
        self.pump()


class MqttOverWebSocket:
    """The live transport (``transport``), the WebSocket endpoint (``serve``) and the sessions."""

    def __init__(self, core: Any) -> None:
        self.core = core
        self.rt = core.rt
        self.sessions: dict[tuple[str, str, str], MqttSession] = {}  # (accountId, principalId, clientId) → session
        self.by_topic: dict[str, set[MqttSession]] = {}              # subscriptionId → subscribed sessions
        self.sweeper = Sweeper(self.sweep)
        self.encoder = EnvelopeEncoder()

    async def start(self) -> None:
        self.sweeper.start()

    async def stop(self) -> None:
        await self.sweeper.stop()
        for session in list(self.sessions.values()):
            if session.link is not None:
                session.link.close(1001, "the server is shutting down")

    # ------------------------------------------------------------------ delivery (the live transport)
    def transport(self, sub: dict[str, Any], envelope: dict[str, Any]) -> None:
        topic = sub["subscriptionId"]
        sessions = self.by_topic.get(topic)
        if not sessions:
            return
        if sub.get("connectionId") and self.core.connections.live(sub["connectionId"]) is None:
            return  # the subscription's connection was deleted or expired: nothing is delivered
        payload = self.encoder.encode(envelope).encode()
        now = self.rt.clock.timestamp()
        for session in list(sessions):
            if session.link is not None and session.link.expired(now):
                session.link.close(4401, "TokenExpired: the access token has expired")
            session.deliver(topic, payload)

    def connection_closed(self, connection_id: str) -> None:
        """The connection was deleted: its sessions end, persistent or not."""
        for session in list(self.sessions.values()):
            if session.connection_id == connection_id:
                if session.link is not None:
                    session.link.close(4404, "ConnectionGone: the connection was deleted")
                self._drop(session)

    def sweep(self) -> None:
        now, now_iso = self.rt.clock.timestamp(), self.rt.now_iso()
        for session in list(self.sessions.values()):
            if self.core.connections.live(session.connection_id, now_iso) is None:
                if session.link is not None:
                    session.link.close(4404, "ConnectionGone: the connection was deleted or has expired")
                self._drop(session)
            elif session.link is not None and session.link.expired(now):
                session.link.close(4401, "TokenExpired: the access token has expired")

    def _drop(self, session: MqttSession) -> None:
        for topic in session.topics:
            subscribed = self.by_topic.get(topic)
            if subscribed is not None:
                subscribed.discard(session)
                if not subscribed:
                    del self.by_topic[topic]
        session.topics.clear()
        if self.sessions.get(session.key) is session:
            del self.sessions[session.key]

    # ------------------------------------------------------------------ the WebSocket endpoint
    async def serve(self, websocket: WebSocket) -> None:
        connection_id = websocket.path_params.get("connectionId", "")
        offered = websocket.scope.get("subprotocols") or []
        await websocket.accept(subprotocol="mqtt" if "mqtt" in offered else None)
        link = Link(websocket)
        attached: list[MqttSession] = []

        async def reader() -> None:
            await self._read(link, connection_id, attached)

        try:
            await link.run(reader)
        finally:
            for session in attached:
                if session.link is link:
                    session.link = None
                    if not session.persistent:
                        self._drop(session)

    async def _read(self, link: Link, connection_id: str, attached: list[MqttSession]) -> None:
        stream = _SocketStream(link.ws)
        try:
            first = await asyncio.wait_for(read_packet(stream), CONNECT_TIMEOUT)
        except (asyncio.TimeoutError, *_DECODE_ERRORS):
            return
        if not isinstance(first, ConnectPacket):
            return  # the first packet must be CONNECT [MQTT-3.1.0-1]
        session = self._connect(link, first, connection_id)
        if session is None:
            return
        stream.limit = MAX_PACKET
        attached.append(session)
        keep_alive = first.keep_alive
        timeout = keep_alive * 1.5 if keep_alive else None
        while not link.closing:
            try:
                packet = await asyncio.wait_for(read_packet(stream), timeout)
            except asyncio.TimeoutError:
                link.close(1000, "keep-alive timeout")
                return
            except _DECODE_ERRORS as exc:
                log.debug("malformed MQTT packet: %s", exc)
                return
            if packet is None or not self._handle(session, link, packet):
                return

    def _connect(self, link: Link, packet: ConnectPacket, connection_id: str) -> MqttSession | None:
        header, payload = packet.variable_header, packet.payload
        if header is None or payload is None or header.reserved_flag:
            return None
        if (header.proto_name, header.proto_level) not in PROTOCOLS:
            return self._refuse(link, BAD_PROTOCOL)
        token = payload.password if header.password_flag else bearer(link.ws.headers.get("authorization"))
        if not token:
            return self._refuse(link, NOT_AUTHORIZED)
        try:
            actor = self.core.auth.principal(token)
        except CoreError:
            return self._refuse(link, BAD_CREDENTIALS)
        if self.core.connections.owned(connection_id, actor.account_id, actor.principal_id) is None:
            return self._refuse(link, NOT_AUTHORIZED)
        clean = header.clean_session_flag
        if payload.client_id_is_random and not clean:
            return self._refuse(link, BAD_CLIENT_ID)  # [MQTT-3.1.3-8]
        key = (actor.account_id, actor.principal_id, payload.client_id)
        existing = self.sessions.get(key)
        if existing is not None and existing.link is not None:
            existing.link.close(1000, "session taken over by a new connection with the same client id")
            existing.link = None
        present = existing is not None and not clean
        if present:
            assert existing is not None
            session = existing
            session.connection_id = connection_id
        else:
            if existing is not None:
                self._drop(existing)
            session = MqttSession(key, actor.account_id, actor.principal_id, connection_id, persistent=not clean)
            self.sessions[key] = session
        session.persistent = not clean
        session.link = link
        link.expire_at(float(actor.claims["exp"]), self.core.scheduler, self.rt.clock.timestamp(),
                       revoked=lambda: self.core.auth.refused(token))
        link.send(ConnackPacket.build(1 if present else 0, ACCEPTED).to_bytes())
        if present:
            session.resume()
        return session

    def _refuse(self, link: Link, code: int) -> MqttSession | None:
        """Answer CONNECT with a refusal code; there is no session."""
        link.send(ConnackPacket.build(0, code).to_bytes())
        return None

    def _handle(self, session: MqttSession, link: Link, packet: MQTTPacket[Any, Any, Any]) -> bool:
        """Act on one packet; False ends the network connection."""
        kind = packet.fixed_header.packet_type
        if kind == PUBACK:
            session.acknowledged(packet.variable_header.packet_id)
        elif kind == PINGREQ:
            link.send(_PINGRESP)
        elif kind == SUBSCRIBE:
            codes = [self._subscribe(session, topic, qos) for topic, qos in packet.payload.topics]
            link.send(SubackPacket.build(packet.variable_header.packet_id, codes).to_bytes())
        elif kind == UNSUBSCRIBE:
            for topic in packet.payload.topics:
                self._unsubscribe(session, topic)
            link.send(UnsubackPacket.build(packet.variable_header.packet_id).to_bytes())
        elif kind == PUBLISH:  # delivery only: acknowledged as the QoS requires, then dropped
            if packet.qos == 1:
                link.send(PubackPacket.build(packet.packet_id).to_bytes())
            elif packet.qos == 2:
                link.send(PubrecPacket.build(packet.packet_id).to_bytes())
        elif kind == PUBREL:
            link.send(PubcompPacket.build(packet.variable_header.packet_id).to_bytes())
        elif kind in (PUBREC, PUBCOMP):
            pass  # answers to QoS 2, which this server never sends
        elif kind == DISCONNECT:
            link.close(1000, "DISCONNECT")
            return False
        else:
            return False  # a second CONNECT, or a packet only a server sends: a protocol violation
        return True

    def _subscribe(self, session: MqttSession, topic: str, qos: int) -> int:
        sub = self.rt.state.get("subscription", topic)
        if (sub is None or sub["principalId"] != session.principal_id or sub["accountId"] != session.account_id
                or sub.get("transport") != "websocket"
                or not sub.get("active", True) or sub["expiryDateTime"] <= self.rt.now_iso() or qos not in (0, 1, 2)):
            return REFUSED
        granted = min(qos, 1)
        session.topics[topic] = granted
        self.by_topic.setdefault(topic, set()).add(session)
        return granted

    def _unsubscribe(self, session: MqttSession, topic: str) -> None:
        if session.topics.pop(topic, None) is None:
            return
        subscribed = self.by_topic.get(topic)
        if subscribed is not None:
            subscribed.discard(session)
            if not subscribed:
                del self.by_topic[topic]
