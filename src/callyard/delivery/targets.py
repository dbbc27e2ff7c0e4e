"""Which webhook targets the twin sends to (issue 13, finding 8).

Local receivers are the main use of a twin (``http://127.0.0.1:9000/hook`` on the developer's machine, a
container next to it in CI), so loopback and private ranges stay allowed. Refused by default:

* link-local addresses (169.254.0.0/16, fe80::/10): cloud metadata services live there;
* the unspecified, multicast and broadcast addresses, which are never a receiver;
* the twin's own listening address (its host and port; with a wildcard bind, any local address on that port):
  a webhook must not drive the twin's own API (``/_callyard/reset``).

``--webhook-refuse CIDR`` adds ranges (a shared twin may refuse 127.0.0.0/8 or 10.0.0.0/8); ``--webhook-allow
CIDR`` allows ranges in spite of the refusals (it wins). A hostname is resolved and every address it has must
be allowed, at registration (400 ``InvalidDeviceId``) and again at each delivery (DNS may change): the sender's
resolver applies the same policy to the addresses it connects to, so a name that resolves differently the
second time (DNS rebinding) is still refused.
"""
from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any, Iterable
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_REFUSED = ("169.254.0.0/16", "fe80::/10", "0.0.0.0/8", "::/128", "224.0.0.0/4", "ff00::/8",
                   "255.255.255.255/32")
_WILDCARDS = ("0.0.0.0", "::", "")
RESOLVE_SECONDS = 2.0   # a registration does not wait longer for DNS


class TargetRefused(OSError):
    """The target's address is not allowed by the webhook target policy."""


def _networks(cidrs: Iterable[str]) -> list[Network]:
    return [ipaddress.ip_network(cidr, strict=False) for cidr in cidrs]


def _plain(address: Address) -> Address:
    """IPv4-mapped IPv6 (``::ffff:169.254.169.254``) as the IPv4 address it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TargetPolicy:
    def __init__(self, *, own_host: str, own_port: int, allow: Iterable[str] = (), refuse: Iterable[str] = ()) -> None:
        self.allow = _networks(allow)
        self.refuse = _networks((*DEFAULT_REFUSED, *refuse))
        self.own_port = own_port
        self.own: set[Address] | None = self._own_addresses(own_host)   # None: every local address

    @staticmethod
    def _own_addresses(host: str) -> set[Address] | None:
        if host in _WILDCARDS:
            return None
        try:
            address = _plain(ipaddress.ip_address(host))
        except ValueError:
            try:
                infos = socket.getaddrinfo(host, None)
            except OSError:
                return set()
            return {_plain(ipaddress.ip_address(str(info[4][0]).split("%")[0])) for info in infos}
        return {address}

    def _is_own(self, address: Address, port: int) -> bool:
        if port != self.own_port:
            return False
        if self.own is None:   # a wildcard bind listens on every local address
            return address.is_loopback or _is_local(address)
        return address in self.own or (address.is_loopback and any(a.is_loopback for a in self.own))

    def refusal(self, address: Address | str, port: int) -> str | None:
        """Why ``address:port`` may not be a webhook target, or None when it may."""
        ip = _plain(ipaddress.ip_address(address) if isinstance(address, str) else address)
        if any(ip in net for net in self.allow):
            return None
        if self._is_own(ip, port):
            return "the twin's own listening address is not a webhook target"
        for net in self.refuse:
            if ip in net:
                what = "link-local" if ip.is_link_local else "refused"
                return f"{what} addresses ({net}) are not webhook targets"
        return None

    async def check_url(self, url: str) -> str | None:
        """Why the URL may not be a webhook target (resolving its host), or None when it may."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return "the URL's port is not valid"
        try:
            literal: Address | None = ipaddress.ip_address(host.split("%")[0])
        except ValueError:
            literal = None
        if literal is not None:
            return self.refusal(literal, port)
        try:
            infos = await asyncio.wait_for(
                asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_SECONDS)
        except (OSError, UnicodeError, asyncio.TimeoutError):
            return None   # unresolvable now: the delivery's own resolution decides (and is checked again)
        for info in infos:
            reason = self.refusal(str(info[4][0]).split("%")[0], port)
            if reason is not None:
                return f"{host} resolves to {info[4][0]}: {reason}"
        return None


def _is_local(address: Address) -> bool:
    """Whether ``address`` is one of this machine's (by binding to it)."""
    family = socket.AF_INET if address.version == 4 else socket.AF_INET6
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((str(address), 0))
        return True
    except OSError:
        return False


class PolicyResolver(AbstractResolver):
    """aiohttp's resolver with the policy applied to every address it returns (literal IPs are checked by
    the sender before the request: aiohttp does not resolve them)."""

    def __init__(self, policy: TargetPolicy) -> None:
        self.policy = policy
        self.inner = DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: Any = socket.AF_INET) -> list[ResolveResult]:
        results = await self.inner.resolve(host, port, family)
        allowed = [r for r in results if self.policy.refusal(str(r["host"]).split("%")[0], port) is None]
        if not allowed:
            raise TargetRefused(f"{host} resolves only to addresses the webhook target policy refuses")
        return allowed

    async def close(self) -> None:
        await self.inner.close()
