"""A real paho-mqtt client over WebSocket, driven from its own thread (``client.loop``), recording what the
server does: the CONNACK, SUBACKs, messages and the disconnect. No automatic reconnect: a test reconnects
by making a new one."""
from __future__ import annotations

import json
import queue
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt


class Mqtt:
    def __init__(self, url: str, password: str | None, client_id: str = "", clean_session: bool = True,
                 headers: dict[str, str] | None = None, manual_ack: bool = False, keepalive: int = 60) -> None:
        parts = urlsplit(url)
        assert parts.scheme == "ws", url
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean_session,
                                  transport="websockets", protocol=mqtt.MQTTv311)
        self.client.ws_set_options(path=parts.path, headers=headers)
        if password is not None:
            self.client.username_pw_set("callyard-test", password)
        self.client.manual_ack_set(manual_ack)
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.subacks: queue.Queue[list[Any]] = queue.Queue()
        self.connack: queue.Queue[tuple[Any, Any]] = queue.Queue()
        self.connected = threading.Event()
        self.disconnected = threading.Event()
        self.client.on_connect = lambda c, u, flags, rc, p: (self.connack.put((rc, flags)),
                                                             self.connected.set() if not rc.is_failure else None)
        self.client.on_subscribe = lambda c, u, mid, codes, p: self.subacks.put(codes)
        self.client.on_message = lambda c, u, message: self.messages.put(message)
        self.client.on_disconnect = lambda c, u, flags, rc, p: self.disconnected.set()
        self._stop = threading.Event()
        self.client.connect(parts.hostname, parts.port, keepalive=keepalive)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.client.loop(timeout=0.02) != mqtt.MQTT_ERR_SUCCESS:
                self.disconnected.set()
                return

    def wait_connack(self, timeout: float = 5) -> tuple[Any, Any]:
        return self.connack.get(timeout=timeout)

    def subscribe(self, topic: str, qos: int = 0) -> list[Any]:
        self.client.subscribe(topic, qos)
        return self.subacks.get(timeout=5)

    def message(self, timeout: float = 5) -> mqtt.MQTTMessage:
        return self.messages.get(timeout=timeout)

    def payload(self, timeout: float = 5) -> dict[str, Any]:
        return json.loads(self.message(timeout).payload)

    def quiet(self, seconds: float = 0.3) -> bool:
        """True when no message arrives within ``seconds``."""
        time.sleep(seconds)
        return self.messages.empty()

    def close(self, clean: bool = True) -> None:
        if clean and not self.disconnected.is_set():
            self.client.disconnect()
            self.disconnected.wait(2)
        self._stop.set()
        self.thread.join(2)
        sock = self.client.socket()
        if not clean and sock is not None:
            sock.close()  # the connection drops: no DISCONNECT, no WebSocket close

    def __enter__(self) -> "Mqtt":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
