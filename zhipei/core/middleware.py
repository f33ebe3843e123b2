"""Client IP from trusted proxies only (fraud screens and rate limits rely on it)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def _is_trusted(address: str, trusted: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in trusted:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_ip(remote_addr: str, forwarded_for: str, trusted: list[str]) -> str:
    """Walk X-Forwarded-For from the right, skipping trusted proxies; the first untrusted hop
    is the client. Without a trusted direct peer the header is ignored (it can be forged)."""
    if not trusted or not _is_trusted(remote_addr, trusted):
        return remote_addr
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            try:
                ipaddress.ip_address(hop)
            except ValueError:
                return remote_addr
            return hop
    return hops[0] if hops else remote_addr


class ClientIPMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.client_ip = client_ip(  # type: ignore[attr-defined]
            request.META.get("REMOTE_ADDR", ""),
            request.META.get("HTTP_X_FORWARDED_FOR", ""),
            settings.TRUSTED_PROXIES,
        )
        return self.get_response(request)


def get_client_ip(request: HttpRequest) -> str:
    value: str = getattr(request, "client_ip", None) or request.META.get("REMOTE_ADDR", "")
    return value
