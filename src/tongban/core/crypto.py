"""国密 primitives through OpenSSL (the `cryptography` package): SM3 digests and MACs, SM4-GCM
encryption of personal data, and keyed lookup hashes ("blind indexes").

All keys derive from one master key (TONGBAN_MASTER_KEY) with HKDF-SM3 and a purpose label,
so one secret is managed and no two purposes share a key. Ciphertexts and journal MACs carry
the id of the key that made them; keys listed in TONGBAN_MASTER_KEYS_OLD still decrypt and
verify after a rotation. docs/security.md explains the scheme.
"""

import base64
import functools
import hmac as std_hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

CIPHERTEXT_PREFIX = "sm4gcm"
NONCE_BYTES = 12
TAG_BYTES = 16


class DecryptionError(Exception):
    """The ciphertext was altered, belongs to another field, or its key is unknown."""


def sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def sm3_hex(data: bytes) -> str:
    return sm3(data).hex()


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    mac = crypto_hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize()


def hmac_sm3_stream(key: bytes) -> crypto_hmac.HMAC:
    """An HMAC-SM3 fed piece by piece (`update`, then `finalize`), for data too big to hold in memory."""
    return crypto_hmac.HMAC(key, hashes.SM3())


def _master_bytes(master: str) -> bytes:
    master = master.strip()
    try:
        raw = bytes.fromhex(master)
    except ValueError:
        raw = master.encode()
    if len(raw) < 16:
        raise ValueError("TONGBAN_MASTER_KEY must carry at least 128 bits (32 hex characters)")
    return raw


@functools.lru_cache(maxsize=64)
def _derive(master: str, purpose: str, length: int) -> bytes:
    return HKDF(hashes.SM3(), length, salt=b"tongban-kdf-v1", info=purpose.encode()).derive(
        _master_bytes(master)
    )


def key_id(key: bytes) -> str:
    return sm3_hex(b"tongban-key-id" + key)[:8]


def derived_key(purpose: str, length: int = 32, master: str | None = None) -> bytes:
    return _derive(master or settings.TONGBAN_MASTER_KEY, purpose, length)


def derived_keys(purpose: str, length: int = 32) -> dict[str, bytes]:
    """The current key first, then keys from retired master keys, by key id."""
    masters = (settings.TONGBAN_MASTER_KEY, *settings.TONGBAN_MASTER_KEYS_OLD)
    return dict(_keys_by_id(masters, purpose, length))


@functools.lru_cache(maxsize=64)
def _keys_by_id(masters: tuple[str, ...], purpose: str, length: int) -> tuple[tuple[str, bytes], ...]:
    # Cached: a batch read decrypts hundreds of thousands of values, and each key id costs an SM3.
    keys: dict[str, bytes] = {}
    for master in masters:
        key = _derive(master, purpose, length)
        keys.setdefault(key_id(key), key)
    return tuple(keys.items())


# --- SM4-GCM for personal data ------------------------------------------------------------------


def _sm4_key() -> bytes:
    return derived_key("pii-sm4-v1", 16)


def encrypt(plaintext: str, context: str) -> str:
    """Encrypt with SM4-GCM; `context` (e.g. "accounts.Person.id_number") is authenticated, so a
    ciphertext copied into another column fails to decrypt."""
    key = _sm4_key()
    nonce = os.urandom(NONCE_BYTES)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(context.encode())
    body = encryptor.update(plaintext.encode()) + encryptor.finalize()
    token = base64.urlsafe_b64encode(nonce + body + encryptor.tag).decode().rstrip("=")
    return f"{CIPHERTEXT_PREFIX}${key_id(key)}${token}"


def decrypt(ciphertext: str, context: str) -> str:
    return _open(ciphertext, _sm4_ciphers(), context.encode())


def decrypt_many(ciphertexts, context: str) -> list[str]:
    """`decrypt` of many values of one field (a batch read of a hundred thousand records): the
    keys and the authenticated context are worked out once, not per value."""
    ciphers, associated = _sm4_ciphers(), context.encode()
    return [_open(ciphertext, ciphers, associated) for ciphertext in ciphertexts]


def _sm4_ciphers() -> dict[str, algorithms.SM4]:
    return {kid: algorithms.SM4(key) for kid, key in derived_keys("pii-sm4-v1", 16).items()}


def _open(ciphertext: str, ciphers: dict[str, algorithms.SM4], associated: bytes) -> str:
    try:
        prefix, kid, token = ciphertext.split("$", 2)
    except ValueError:
        raise DecryptionError("not a tongban ciphertext") from None
    if prefix != CIPHERTEXT_PREFIX:
        raise DecryptionError("unknown ciphertext format")
    cipher = ciphers.get(kid)
    if cipher is None:
        raise DecryptionError(f"no key with id {kid}")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:  # binascii.Error, or non-ASCII characters
        raise DecryptionError("ciphertext is not valid base64") from None
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("ciphertext is too short")
    decryptor = Cipher(cipher, modes.GCM(raw[:NONCE_BYTES], raw[-TAG_BYTES:])).decryptor()
    decryptor.authenticate_additional_data(associated)
    try:
        return (decryptor.update(raw[NONCE_BYTES:-TAG_BYTES]) + decryptor.finalize()).decode()
    except InvalidTag:
        raise DecryptionError("ciphertext failed authentication") from None


# --- SM4-GCM for files ---------------------------------------------------------------------------

BLOB_MAGIC = b"TBE1"  # tongban encrypted blob, format 1
BLOB_PURPOSE = "file-sm4-v1"
KEY_ID_CHARS = 8


def encrypt_bytes(plaintext: bytes, context: str) -> bytes:
    """The binary twin of `encrypt`, for uploaded materials: no base64, so a 20 MB scan stays 20 MB.

    Layout: magic, key id (8 ASCII hex characters), nonce, ciphertext, tag. Files get their own derived
    key (no two purposes share one); the magic and key id are authenticated together with `context`.
    """
    key = derived_key(BLOB_PURPOSE, 16)
    header = BLOB_MAGIC + key_id(key).encode()
    nonce = os.urandom(NONCE_BYTES)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(header + context.encode())
    body = encryptor.update(plaintext) + encryptor.finalize()
    return header + nonce + body + encryptor.tag


def decrypt_bytes(blob: bytes, context: str) -> bytes:
    """Decrypt a blob from `encrypt_bytes`; blobs made under a retired master key still open."""
    head = len(BLOB_MAGIC) + KEY_ID_CHARS
    if len(blob) < head + NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("ciphertext is too short")
    if blob[: len(BLOB_MAGIC)] != BLOB_MAGIC:
        raise DecryptionError("unknown ciphertext format")
    try:
        kid = blob[len(BLOB_MAGIC) : head].decode("ascii")
    except UnicodeDecodeError:
        raise DecryptionError("malformed key id") from None
    key = derived_keys(BLOB_PURPOSE, 16).get(kid)
    if key is None:
        raise DecryptionError(f"no key with id {kid}")
    nonce, body, tag = (
        blob[head : head + NONCE_BYTES],
        blob[head + NONCE_BYTES : -TAG_BYTES],
        blob[-TAG_BYTES:],
    )
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(blob[:head] + context.encode())
    try:
        return decryptor.update(body) + decryptor.finalize()
    except InvalidTag:
        raise DecryptionError("ciphertext failed authentication") from None


def blind_index(value: str, context: str, key: bytes | None = None) -> str:
    """A keyed SM3 hash for exact-match lookup of an encrypted value without decrypting the table."""
    key = key or derived_key("pii-index-v1")
    return hmac_sm3(key, context.encode() + b"\x00" + value.encode()).hex()


def blind_indexes(value: str, context: str) -> list[str]:
    """The value's index under the current key and every retired one: after a key rotation, rows
    not yet re-indexed (`tongban rekey`) are still found."""
    return [blind_index(value, context, key) for key in derived_keys("pii-index-v1").values()]


def constant_time_equal(a: str, b: str) -> bool:
    return std_hmac.compare_digest(a.encode(), b.encode())


FEISTEL_ROUNDS = 10  # as NIST SP 800-38G's FF1; small domains need more rounds than 64-bit blocks


def permute_digits(value: int, digits: int, key: bytes) -> int:
    """A keyed permutation of the numbers below 10**digits (format-preserving, as FF1 is).

    Each number maps to another of the same width and no two to the same one, so serials put
    through it stay unique while their order and count are hidden from anyone without the key.
    An unbalanced Feistel network over the two decimal halves, HMAC-SM3 as the round function.
    """
    if not 0 <= value < 10**digits or digits < 2:
        raise ValueError("value out of range")
    u = digits // 2
    v = digits - u
    a, b = divmod(value, 10**v)
    for round_ in range(FEISTEL_ROUNDS):
        m = u if round_ % 2 == 0 else v
        other = v if round_ % 2 == 0 else u
        mac = hmac_sm3(key, bytes([round_, digits, other]) + b.to_bytes(8, "big"))
        a, b = b, (a + int.from_bytes(mac[:8], "big")) % 10**m
    return a * 10**v + b
