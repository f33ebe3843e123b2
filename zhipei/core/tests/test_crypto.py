"""Encryption, blind indexes, key configuration errors and the encrypted-field registry."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.core.exceptions import ImproperlyConfigured
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from zhipei.core import crypto
from zhipei.core.crypto import (
    CryptoConfigError,
    DecryptionFailed,
    EncryptedField,
    blind_index,
    cipher_of,
    decrypt,
    encrypt,
    keyring,
    register_encrypted_field,
    registered_fields,
)

KEY_A = bytes(range(32))
KEY_B = bytes(range(100, 132))
B64_A = base64.b64encode(KEY_A).decode()
B64_B = base64.b64encode(KEY_B).decode()
BLIND_KEY = base64.b64encode(b"k" * 32).decode()


@pytest.fixture
def keys(settings):
    settings.PII_KEYS = f"a:{B64_A},b:{B64_B}"
    settings.PII_ACTIVE_KEY = ""
    settings.PII_CIPHER = "aes-gcm"
    settings.BLIND_INDEX_KEY = BLIND_KEY
    return settings


@pytest.mark.parametrize("cipher", ["aes-gcm", "sm4-gcm"])
def test_round_trip(keys, cipher):
    keys.PII_CIPHER = cipher
    key_id, blob = encrypt(b"11010519500101120X", associated_data=b"row-1")

    assert key_id == "b"  # the last key listed is active by default
    assert cipher_of(blob) == cipher
    assert b"11010519500101120X" not in blob
    assert len(blob) == 1 + 12 + 18 + 16
    assert decrypt(key_id, blob, associated_data=b"row-1") == b"11010519500101120X"


def test_each_encryption_uses_a_fresh_nonce(keys):
    _, first = encrypt(b"same")
    _, second = encrypt(b"same")
    assert first != second
    assert first[1:13] != second[1:13]


def test_aes_blob_is_plain_aes_256_gcm_under_the_configured_key(keys):
    _, blob = encrypt(b"abc", associated_data=b"ad")
    assert blob[0] == 0x01
    decryptor = Cipher(algorithms.AES(KEY_B), modes.GCM(blob[1:13], blob[-16:])).decryptor()
    decryptor.authenticate_additional_data(b"ad")
    assert decryptor.update(blob[13:-16]) + decryptor.finalize() == b"abc"


def test_sm4_key_is_derived_not_the_first_16_bytes(keys):
    keys.PII_CIPHER = "sm4-gcm"
    _, blob = encrypt(b"abc")
    assert blob[0] == 0x02
    decryptor = Cipher(algorithms.SM4(KEY_B[:16]), modes.GCM(blob[1:13], blob[-16:])).decryptor()
    decryptor.update(blob[13:-16])
    with pytest.raises(InvalidTag):
        decryptor.finalize()


def test_blob_remembers_its_cipher_when_the_setting_changes(keys):
    key_id, aes_blob = encrypt(b"aes data")
    keys.PII_CIPHER = "sm4-gcm"
    _, sm4_blob = encrypt(b"sm4 data")

    assert decrypt(key_id, aes_blob) == b"aes data"
    keys.PII_CIPHER = "aes-gcm"
    assert decrypt(key_id, sm4_blob) == b"sm4 data"


def test_active_key_can_be_named(keys):
    keys.PII_ACTIVE_KEY = "a"
    key_id, blob = encrypt(b"x")
    assert key_id == "a"
    assert decrypt("a", blob) == b"x"


@pytest.mark.parametrize("cipher", ["aes-gcm", "sm4-gcm"])
@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_changed_byte_is_detected(keys, cipher, data):
    keys.PII_CIPHER = cipher
    key_id, blob = encrypt(b"440305198501011231", associated_data=b"ad")
    position = data.draw(st.integers(0, len(blob) - 1))
    flip = data.draw(st.integers(1, 255))
    tampered = bytearray(blob)
    tampered[position] ^= flip

    with pytest.raises(DecryptionFailed):
        decrypt(key_id, bytes(tampered), associated_data=b"ad")


@pytest.mark.parametrize("cipher", ["aes-gcm", "sm4-gcm"])
def test_truncated_blob_and_other_associated_data_are_refused(keys, cipher):
    keys.PII_CIPHER = cipher
    key_id, blob = encrypt(b"secret", associated_data=b"row-1")
    with pytest.raises(DecryptionFailed):
        decrypt(key_id, blob, associated_data=b"row-2")
    with pytest.raises(DecryptionFailed):
        decrypt(key_id, blob[:-1], associated_data=b"row-1")
    with pytest.raises(DecryptionFailed):
        decrypt(key_id, blob[:20], associated_data=b"row-1")
    with pytest.raises(DecryptionFailed):
        decrypt(key_id, b"", associated_data=b"row-1")


def test_wrong_key_id_fails_to_authenticate(keys):
    _, blob = encrypt(b"secret")
    with pytest.raises(DecryptionFailed) as exc:
        decrypt("a", blob)
    assert "'a'" in str(exc.value)


def test_unknown_key_id_is_a_configuration_error_naming_the_id_only(keys):
    _, blob = encrypt(b"secret")
    keys.PII_KEYS = f"c:{B64_A}"
    with pytest.raises(CryptoConfigError) as exc:
        decrypt("b", blob)
    message = str(exc.value)
    assert "PII_KEYS" in message
    assert "'b'" in message
    assert B64_A not in message
    assert B64_B not in message


@pytest.mark.parametrize(
    ("pii_keys", "active", "cipher", "expected"),
    [
        ("", "", "aes-gcm", "PII_KEYS is not set"),
        (" , ", "", "aes-gcm", "PII_KEYS lists no keys"),
        (B64_A, "", "aes-gcm", "PII_KEYS entry 1 is ill-formed"),
        (f"a:{B64_A},bad id:{B64_B}", "", "aes-gcm", "PII_KEYS entry 2 is ill-formed"),
        (f"a:{B64_A},a:{B64_B}", "", "aes-gcm", "lists the key id 'a' twice"),
        (f"a:{B64_A[:-4]}!!!!", "", "aes-gcm", "key 'a' is not valid base64"),
        (f"a:{base64.b64encode(KEY_A[:16]).decode()}", "", "aes-gcm", "16 bytes long"),
        (f"a:{B64_A}", "z", "aes-gcm", "PII_ACTIVE_KEY names 'z'"),
        (f"a:{B64_A}", "", "des-ecb", "PII_CIPHER must be"),
    ],
)
def test_ill_formed_key_settings_name_the_setting_but_never_a_key(
    settings, pii_keys, active, cipher, expected
):
    settings.PII_KEYS, settings.PII_ACTIVE_KEY, settings.PII_CIPHER = pii_keys, active, cipher
    with pytest.raises(CryptoConfigError) as exc:
        encrypt(b"x")
    message = str(exc.value)
    assert expected in message
    for secret in (B64_A, B64_B, B64_A[:-4], base64.b64encode(KEY_A[:16]).decode()):
        assert secret not in message
    assert isinstance(exc.value, ImproperlyConfigured)


def test_keyring_repr_shows_key_ids_but_no_key(keys):
    text = repr(keyring())
    assert "'a'" in text
    assert "'b'" in text
    assert B64_A not in text
    assert repr(KEY_A) not in text


def test_blind_index_is_stable_and_domain_separated(keys):
    value = blind_index("11010519500101120X", purpose="people.person.id_number")

    # Pinned: changing the construction would orphan every stored index.
    expected = hmac.new(
        b"k" * 32,
        b"zhipei blind index v1\x00people.person.id_number\x0011010519500101120X",
        hashlib.sha256,
    ).hexdigest()
    assert value == expected
    assert value == blind_index("11010519500101120X", purpose="people.person.id_number")
    assert len(value) == 64
    assert value != blind_index("11010519500101120X", purpose="orgs.other")
    assert value != blind_index("110105195001011204", purpose="people.person.id_number")
    keys.BLIND_INDEX_KEY = base64.b64encode(b"m" * 32).decode()
    assert value != blind_index("11010519500101120X", purpose="people.person.id_number")


def test_blind_index_purposes_cannot_collide_by_shifting_the_separator(keys):
    assert blind_index("b:c", purpose="a") != blind_index("c", purpose="a:b")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "BLIND_INDEX_KEY is not set"),
        (base64.b64encode(b"k" * 16).decode(), "16 bytes long"),
        ("not base64!", "BLIND_INDEX_KEY: the value is not valid base64"),
    ],
)
def test_blind_index_key_errors(settings, value, expected):
    settings.BLIND_INDEX_KEY = value
    with pytest.raises(CryptoConfigError, match=expected):
        blind_index("x", purpose="p")


def test_blind_index_needs_a_purpose(keys):
    with pytest.raises(ValueError, match="purpose"):
        blind_index("x", purpose="")


def test_person_id_number_is_registered_for_rotation():
    assert (
        EncryptedField("people.Person", "id_ciphertext", "id_key_id", "id_blind_index")
        in registered_fields()
    )


def test_registering_twice_is_harmless_but_a_conflicting_registration_fails(monkeypatch):
    monkeypatch.setattr(crypto, "_REGISTRY", {})
    register_encrypted_field("orgs.PlatformCredential", "secret_ciphertext", "secret_key_id")
    register_encrypted_field("orgs.PlatformCredential", "secret_ciphertext", "secret_key_id")
    assert len(registered_fields()) == 1
    with pytest.raises(ImproperlyConfigured):
        register_encrypted_field("orgs.PlatformCredential", "secret_ciphertext", "other_field")


def test_system_check_reports_ill_formed_keys_without_key_material(settings):
    from zhipei.core.checks import check_pii_keys

    settings.PII_KEYS = f"a:{B64_A[:-4]}!!!!"
    settings.BLIND_INDEX_KEY = base64.b64encode(b"k" * 8).decode()
    messages = check_pii_keys()
    assert [m.id for m in messages] == ["zhipei.E005", "zhipei.E005"]
    assert "PII_KEYS" in messages[0].msg
    assert "BLIND_INDEX_KEY" in messages[1].msg
    assert all(B64_A[:-4] not in m.msg for m in messages)


def test_system_check_passes_with_good_keys(keys):
    from zhipei.core.checks import check_pii_keys

    assert check_pii_keys() == []
