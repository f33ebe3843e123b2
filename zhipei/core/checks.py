"""System checks for misconfiguration (STYLE §12). IDs: zhipei.E00x errors, zhipei.W00x warnings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register


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
