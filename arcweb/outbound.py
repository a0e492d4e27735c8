"""Outbound HTTP to addresses a tenant gives (model endpoints, webhooks): a security boundary.

A target is refused when its host resolves to an address that is not globally routable (private,
loopback, link-local, shared, reserved, multicast, unspecified; IPv4 inside IPv6 included), unless the
operator allows private targets for that kind of call (`ARC_MODEL_ENDPOINTS_ALLOW_PRIVATE`,
`ARC_WEBHOOKS_ALLOW_PRIVATE`, e.g. for a self-hosted Ollama). The URL is checked when it is saved, so
the form or API answers with a clear error, and again when the socket connects, on the very address it
connects to: a DNS answer that changes in between (rebinding) cannot reach the inside. Redirects are
never followed and proxies from the environment are ignored.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

import anyio
import httpcore2
import httpx2


class OutboundRefused(ValueError):
    """The target may not be called; the message says why, in words a tenant's admin understands."""


ALLOWED_SCHEMES = ("http", "https")


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not _is_public(str(embedded)):
            return False
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int, *, allow_private: bool) -> list[str]:
    """The addresses `host` resolves to, every one of them checked; refused if any is not public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundRefused(f"the host {host!r} could not be resolved") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not allow_private:
        inside = [a for a in addresses if not _is_public(a)]
        if inside:
            raise OutboundRefused(
                f"the host {host!r} resolves to a private, loopback or link-local address ({inside[0]}); "
                "calls inside the network are refused"
            )
    return addresses


def check_url(url: str, *, allow_private: bool) -> str:
    """The URL, stripped, when it may be called; else OutboundRefused saying why."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise OutboundRefused(f"not a valid URL: {exc}") from exc
    if parts.scheme not in ALLOWED_SCHEMES:
        raise OutboundRefused("the URL must start with http:// or https://")
    if not parts.hostname:
        raise OutboundRefused("the URL has no host")
    if parts.username or parts.password:
        raise OutboundRefused("put credentials in the key field, not in the URL")
    resolve(parts.hostname, port, allow_private=allow_private)
    return url


class _GuardedBackend(httpcore2.SyncBackend):
    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable | None = None) -> httpcore2.NetworkStream:
        address = resolve(host, port, allow_private=self.allow_private)[0]
        return super().connect_tcp(address, port, timeout, local_address, socket_options)


class _AsyncGuardedBackend(httpcore2.AnyIOBackend):
    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable | None = None) -> httpcore2.AsyncNetworkStream:
        addresses = await anyio.to_thread.run_sync(lambda: resolve(host, port, allow_private=self.allow_private))
        return await super().connect_tcp(addresses[0], port, timeout, local_address, socket_options)


def http_client(*, allow_private: bool, timeout: float) -> httpx2.Client:
    """A client whose every connection goes through the address check (TLS still verifies the host name)."""
    transport = httpx2.HTTPTransport(trust_env=False)
    # httpx2 takes no network backend; its connection pool does, and owns nothing else we change.
    transport._pool._network_backend = _GuardedBackend(allow_private)
    return httpx2.Client(transport=transport, timeout=timeout, follow_redirects=False, trust_env=False)


def async_http_client(*, allow_private: bool, timeout: float) -> httpx2.AsyncClient:
    transport = httpx2.AsyncHTTPTransport(trust_env=False)
    transport._pool._network_backend = _AsyncGuardedBackend(allow_private)
    return httpx2.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False, trust_env=False)
