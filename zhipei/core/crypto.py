"""Encryption of personal data at rest, blind indexes, and the registry of encrypted fields.

Keys come from settings (ARCHITECTURE invariant 2):

- ``PII_KEYS = "kid:base64key,kid2:base64key"``: every key that may still be needed to read
  data, each 32 random bytes in standard base64, under a key id of 1-32 characters
  ``[A-Za-z0-9_-]``. The key id is stored beside each ciphertext so keys can be rotated.
- ``PII_ACTIVE_KEY``: the key id new data is sealed with; default: the last key listed.
- ``PII_CIPHER``: ``aes-gcm`` (default, AES-256-GCM) or ``sm4-gcm`` (SM4 in GCM mode, for
  GM/T compliance).
- ``BLIND_INDEX_KEY``: base64, at least 32 bytes, for `blind_index`.

Ciphertext layout: ``cipher tag (1 byte) || nonce (12 bytes) || ciphertext || GCM tag (16)``.
The tag byte records the cipher, so data sealed under one ``PII_CIPHER`` still opens after the
setting changes; to move old data to the new cipher, add a new key id, make it active and run
``manage.py rotate_keys``.

SM4 takes a 128-bit key. The SM4 key is derived from the configured 32-byte key with
HKDF-SM3 (info ``zhipei pii sm4-gcm v1``), not cut from its first 16 bytes: the derivation
uses all 256 bits of the configured key, stays within the GM/T algorithm family (SM3), and
keeps the SM4 key independent of the AES key should the same key id ever serve both ciphers.

Errors never show key material: `CryptoConfigError` names the setting and the key id only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

KEY_BYTES = 32
NONCE_BYTES = 12
GCM_TAG_BYTES = 16
MIN_BLIND_INDEX_KEY_BYTES = 32
_KEY_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}\Z")

AES_GCM = "aes-gcm"
SM4_GCM = "sm4-gcm"
# The first byte of every blob. Never reuse a retired value for another cipher.
_CIPHER_TAGS: dict[str, int] = {AES_GCM: 0x01, SM4_GCM: 0x02}
_CIPHERS_BY_TAG = {tag: name for name, tag in _CIPHER_TAGS.items()}
_SM4_KDF_INFO = b"zhipei pii sm4-gcm v1"
_BLIND_INDEX_DOMAIN = b"zhipei blind index v1\x00"


class CryptoError(Exception):
    """Base of the errors raised here. Messages never contain key material or plaintext."""


class CryptoConfigError(CryptoError, ImproperlyConfigured):
    """A key setting is missing or ill-formed, or a key id is not in the keyring."""


class DecryptionFailed(CryptoError):
    """The blob is damaged, was tampered with, or was sealed under a different key or
    associated data."""


@dataclass(frozen=True)
class Keyring:
    keys: dict[str, bytes]
    active_key_id: str
    cipher: str

    def __repr__(self) -> str:
        # The default dataclass repr would print the keys.
        return (
            f"Keyring(key_ids={sorted(self.keys)!r}, active_key_id={self.active_key_id!r}, "
            f"cipher={self.cipher!r})"
        )

    def key(self, key_id: str) -> bytes:
        try:
            return self.keys[key_id]
        except KeyError:
            raise CryptoConfigError(
                f"PII_KEYS has no key with id {key_id!r}; add it back to read data sealed "
                "with it, or run manage.py rotate_keys while it is still configured."
            ) from None


def _decode_key(setting: str, key_id: str, encoded: str) -> bytes:
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        where = f"key {key_id!r}" if key_id else "the value"
        raise CryptoConfigError(f"{setting}: {where} is not valid base64.") from None


@lru_cache(maxsize=8)
def _parse_keyring(pii_keys: str, active: str, cipher: str) -> Keyring:
    if not pii_keys.strip():
        raise CryptoConfigError(
            'PII_KEYS is not set; expected "kid:base64key[,kid2:base64key…]" with 32-byte keys.'
        )
    keys: dict[str, bytes] = {}
    for position, raw_entry in enumerate(pii_keys.split(","), start=1):
        entry = raw_entry.strip()
        if not entry:
            continue
        key_id, sep, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not sep or not _KEY_ID_RE.match(key_id):
            raise CryptoConfigError(
                f"PII_KEYS entry {position} is ill-formed: expected kid:base64key with a key id "
                "of 1-32 characters A-Z, a-z, 0-9, _ or -."
            )
        if key_id in keys:
            raise CryptoConfigError(f"PII_KEYS lists the key id {key_id!r} twice.")
        key = _decode_key("PII_KEYS", key_id, encoded.strip())
        if len(key) != KEY_BYTES:
            raise CryptoConfigError(
                f"PII_KEYS: key {key_id!r} is {len(key)} bytes long; it must be {KEY_BYTES} bytes."
            )
        keys[key_id] = key
    if not keys:
        raise CryptoConfigError("PII_KEYS lists no keys.")
    active_key_id = active.strip() or list(keys)[-1]
    if active_key_id not in keys:
        raise CryptoConfigError(
            f"PII_ACTIVE_KEY names {active_key_id!r}, which is not among the PII_KEYS key ids."
        )
    cipher = cipher.strip().lower() or AES_GCM
    if cipher not in _CIPHER_TAGS:
        raise CryptoConfigError(f"PII_CIPHER must be {AES_GCM!r} or {SM4_GCM!r}.")
    return Keyring(keys=keys, active_key_id=active_key_id, cipher=cipher)


def keyring() -> Keyring:
    """The keyring described by the current settings (parsed once per distinct setting)."""
    return _parse_keyring(
        str(getattr(settings, "PII_KEYS", "") or ""),
        str(getattr(settings, "PII_ACTIVE_KEY", "") or ""),
        str(getattr(settings, "PII_CIPHER", "") or ""),
    )


def active_key_id() -> str:
    return keyring().active_key_id


def _sm4_key(key: bytes) -> bytes:
    return HKDF(algorithm=hashes.SM3(), length=16, salt=None, info=_SM4_KDF_INFO).derive(key)


def _seal(cipher: str, key: bytes, nonce: bytes, plaintext: bytes, ad: bytes) -> bytes:
    if cipher == AES_GCM:
        return AESGCM(key).encrypt(nonce, plaintext, ad)
    encryptor = Cipher(algorithms.SM4(_sm4_key(key)), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(ad)
    body = encryptor.update(plaintext) + encryptor.finalize()
    return body + encryptor.tag


def _open(cipher: str, key: bytes, nonce: bytes, sealed: bytes, ad: bytes) -> bytes:
    if cipher == AES_GCM:
        return AESGCM(key).decrypt(nonce, sealed, ad)
    body, tag = sealed[:-GCM_TAG_BYTES], sealed[-GCM_TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(_sm4_key(key)), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(ad)
    return decryptor.update(body) + decryptor.finalize()


def encrypt(plaintext: bytes, *, associated_data: bytes = b"") -> tuple[str, bytes]:
    """Seal `plaintext` under the active key and cipher; returns (key id, blob).

    `associated_data` is authenticated, not stored: the same bytes must be given to `decrypt`
    (it binds a ciphertext to its row, so blobs cannot be swapped between rows unnoticed).
    """
    ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = _seal(ring.cipher, ring.key(ring.active_key_id), nonce, plaintext, associated_data)
    return ring.active_key_id, bytes([_CIPHER_TAGS[ring.cipher]]) + nonce + sealed


def cipher_of(blob: bytes) -> str:
    """The cipher a blob was sealed with, read from its tag byte."""
    if not blob:
        raise DecryptionFailed("The ciphertext is empty.")
    try:
        return _CIPHERS_BY_TAG[blob[0]]
    except KeyError:
        raise DecryptionFailed("The ciphertext has an unknown cipher tag.") from None


def decrypt(key_id: str, blob: bytes, *, associated_data: bytes = b"") -> bytes:
    """Open a blob made by `encrypt`. Raises CryptoConfigError when `key_id` is not in the
    keyring, DecryptionFailed when the blob is damaged or the key or associated data differ."""
    blob = bytes(blob)  # BinaryField gives memoryview on PostgreSQL
    cipher = cipher_of(blob)
    if len(blob) < 1 + NONCE_BYTES + GCM_TAG_BYTES:
        raise DecryptionFailed("The ciphertext is too short.")
    key = keyring().key(key_id)
    nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    try:
        return _open(cipher, key, nonce, sealed, associated_data)
    except InvalidTag:
        raise DecryptionFailed(
            f"The ciphertext does not authenticate under key {key_id!r}: it was damaged, "
            "tampered with, or sealed under another key or associated data."
        ) from None


@lru_cache(maxsize=4)
def _parse_blind_index_key(encoded: str) -> bytes:
    if not encoded.strip():
        raise CryptoConfigError("BLIND_INDEX_KEY is not set; expected at least 32 bytes in base64.")
    key = _decode_key("BLIND_INDEX_KEY", "", encoded.strip())
    if len(key) < MIN_BLIND_INDEX_KEY_BYTES:
        raise CryptoConfigError(
            f"BLIND_INDEX_KEY is {len(key)} bytes long; it must be at least "
            f"{MIN_BLIND_INDEX_KEY_BYTES} bytes."
        )
    return key


def blind_index(value: str, *, purpose: str) -> str:
    """HMAC-SHA256 (hex) of `value` under settings.BLIND_INDEX_KEY, separated by `purpose`
    (e.g. "people.person.id_number"), so equal values give equal indexes for one purpose only.
    Callers normalise `value` first; this function does not."""
    if not purpose or "\x00" in purpose:
        raise ValueError("blind_index needs a non-empty purpose without NUL characters.")
    key = _parse_blind_index_key(str(getattr(settings, "BLIND_INDEX_KEY", "") or ""))
    message = _BLIND_INDEX_DOMAIN + purpose.encode("utf-8") + b"\x00" + value.encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


# --- Registry of encrypted fields, read by manage.py rotate_keys ------------------------------


@dataclass(frozen=True)
class EncryptedField:
    """One model field holding `encrypt` blobs. When `associated_data_field` is set, the blob
    was sealed with that field's value (UTF-8 of its str) as associated data."""

    model_label: str
    ciphertext_field: str
    key_id_field: str
    associated_data_field: str | None = None


_REGISTRY: dict[tuple[str, str], EncryptedField] = {}


def register_encrypted_field(
    model_label: str,
    ciphertext_field: str,
    key_id_field: str,
    associated_data_field: str | None = None,
) -> None:
    """Declare an encrypted field so `rotate_keys` re-encrypts it (call from AppConfig.ready).
    Registering the same field again with the same description is a no-op; with a different
    one it is an error."""
    entry = EncryptedField(model_label, ciphertext_field, key_id_field, associated_data_field)
    existing = _REGISTRY.setdefault((model_label.lower(), ciphertext_field), entry)
    if existing != entry:
        raise ImproperlyConfigured(
            f"{model_label}.{ciphertext_field} is already registered as {existing}."
        )


def registered_fields() -> tuple[EncryptedField, ...]:
    return tuple(_REGISTRY[key] for key in sorted(_REGISTRY))


def associated_data_for(obj: object, field: EncryptedField) -> bytes:
    """The associated data a registered field's blob was sealed with, for one row."""
    if field.associated_data_field is None:
        return b""
    return str(getattr(obj, field.associated_data_field)).encode("utf-8")
