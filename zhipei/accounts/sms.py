"""Pluggable SMS senders (settings.SMS_SENDER names a class with `send(phone, message)`).

The default ConsoleSender writes the message to the log, so a developer running `make run`
reads the login code there. MemorySender keeps messages in memory for tests. A real gateway
adapter implements the same method; it is called after the code is committed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from zhipei.accounts.phones import mask_phone

logger = logging.getLogger(__name__)


class SmsSender(Protocol):
    def send(self, phone: str, message: str) -> None: ...


class ConsoleSender:
    """Development sender: logs the message (it contains the code) instead of sending it."""

    def send(self, phone: str, message: str) -> None:
        logger.info("SMS to %s: %s", mask_phone(phone), message)


@dataclass(frozen=True)
class SentMessage:
    phone: str
    message: str


class MemorySender:
    """Test sender: every message lands in the class-wide `outbox` (clear it in setUp)."""

    outbox: ClassVar[list[SentMessage]] = []

    def send(self, phone: str, message: str) -> None:
        MemorySender.outbox.append(SentMessage(phone, message))


@lru_cache(maxsize=8)
def _load(dotted_path: str) -> SmsSender:
    sender: SmsSender = import_string(dotted_path)()
    return sender


def get_sender() -> SmsSender:
    return _load(settings.SMS_SENDER)
