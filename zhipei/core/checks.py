"""System checks for misconfiguration (STYLE §12). IDs: zhipei.E00x errors, zhipei.W00x warnings."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.checks import Warning as CheckWarning


@register(Tags.security, deploy=True)
def check_keys(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    if settings.DEBUG:
        return messages
    if not settings.SECRET_KEY or settings.SECRET_KEY == settings.DEV_SECRET_KEY:
        messages.append(Error("SECRET_KEY is missing or is the development key.", id="zhipei.E001"))
    dev_pairs = [
        ("PII_KEYS", settings.DEV_PII_KEYS),
        ("BLIND_INDEX_KEY", settings.DEV_BLIND_INDEX_KEY),
        ("AUDIT_HMAC_KEY", settings.DEV_AUDIT_KEY),
    ]
    for name, dev_value in dev_pairs:
        value = getattr(settings, name)
        if not value:
            messages.append(Error(f"{name} is not set.", id="zhipei.E002"))
        elif dev_value in value:
            messages.append(Error(f"{name} contains a development key.", id="zhipei.E003"))
    if settings.PII_CIPHER not in {"aes-gcm", "sm4-gcm"}:
        messages.append(Error("PII_CIPHER must be aes-gcm or sm4-gcm.", id="zhipei.E004"))
    return messages


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@register(Tags.security, deploy=True)
def check_site_url(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """SITE_URL is the address the world reaches this site at: certificate QR codes and
    verification links, the learners' xAPI account homePage and the profile's IRIs are built
    on it, and what is printed on a certificate cannot be taken back."""
    if settings.DEBUG:
        return []
    parts = urlsplit(settings.SITE_URL)
    host = parts.hostname or ""
    if parts.scheme not in {"http", "https"} or not host:
        return [
            Error(
                f"SITE_URL {settings.SITE_URL!r} is not an absolute http(s) address.",
                hint="Set SITE_URL to the public address, e.g. https://zhipei.example.gov.cn.",
                id="zhipei.E006",
            )
        ]
    if _is_loopback(host):
        return [
            Error(
                f"SITE_URL is {settings.SITE_URL!r}, this machine's own address: certificate "
                "QR codes and verification links would lead nowhere.",
                hint="Set SITE_URL to the public address, e.g. https://zhipei.example.gov.cn.",
                id="zhipei.E006",
            )
        ]
    if parts.scheme != "https":
        return [
            CheckWarning(
                f"SITE_URL {settings.SITE_URL!r} is not https: certificate links would be "
                "opened without TLS.",
                id="zhipei.W002",
            )
        ]
    return []


@register(Tags.security)
def check_pii_keys(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Key settings that are given must be well-formed (missing ones are E002 under --deploy).
    Messages name the setting and key id, never key material."""
    from zhipei.core.crypto import CryptoConfigError, blind_index, keyring

    messages: list[CheckMessage] = []
    probes: list[Callable[[], object]] = []
    if settings.PII_KEYS:
        probes.append(keyring)
    if settings.BLIND_INDEX_KEY:
        probes.append(lambda: blind_index("", purpose="system check"))
    for probe in probes:
        try:
            probe()
        except CryptoConfigError as exc:
            messages.append(Error(str(exc), id="zhipei.E005"))
    return messages
