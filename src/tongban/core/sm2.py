"""SM2 signatures (GB/T 32918.2) for what other parties must be able to check: e-licences and the
audit journal's anchors.

Signatures use SM3 over Z ‖ M, Z computed with the default user ID "1234567812345678", as
GB/T 35276 prescribes; gmssl and any other conforming implementation verify them (tested both ways).
The signing runs on Tongsuo (tongsuopy), whose verification is some 40 times faster than a pure
Python one — a licence check is a verification.

A signature travels as 64 raw bytes, r ‖ s, each 32 bytes big-endian: compact enough for a QR
code. Public keys travel as 128 hex characters, x ‖ y. Private keys exist in clear only in memory:
at rest they are SM4-GCM ciphertext under a key derived from TONGBAN_MASTER_KEY (core.crypto),
bound to the key's own id, so a ciphertext moved to another key record does not decrypt. A key
that belongs to the installation rather than to a department (the journal's anchor key) is not
stored at all: it is derived from the master key like every other key (`derived`).
"""

import functools
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from tongsuopy.crypto import hashes
from tongsuopy.crypto.asymciphers import ec
from tongsuopy.crypto.exceptions import InvalidSignature

from . import crypto

SIGNATURE_BYTES = 64
PUBLIC_KEY_HEX = 128
_CURVE = ec.SM2()
_ALGORITHM = ec.ECDSA(hashes.SM3())  # with the SM2 curve, Tongsuo signs SM3(Z ‖ M) as GB/T 32918
# The order n of the SM2 curve's base point (GB/T 32918.5).
ORDER = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123


class SM2Error(ValueError):
    """A key or signature that is not well formed (not: a signature that does not verify)."""


@dataclass(frozen=True)
class KeyPair:
    key_id: str  # SM3 of the public key, first 16 hex characters: names the key in signatures
    public_key: str  # x ‖ y, hex
    private_key_ciphertext: str  # the scalar, SM4-GCM under the master key, bound to key_id


def key_id_of(public_key: str) -> str:
    return crypto.sm3_hex(bytes.fromhex(public_key))[:16]


def generate() -> KeyPair:
    private = ec.generate_private_key(_CURVE)
    numbers = private.public_key().public_numbers()
    public_key = f"{numbers.x:064x}{numbers.y:064x}"
    key_id = key_id_of(public_key)
    scalar = f"{private.private_numbers().private_value:064x}"
    return KeyPair(key_id, public_key, crypto.encrypt(scalar, _context(key_id)))


def sign(pair: KeyPair, message: bytes) -> bytes:
    """r ‖ s of the message, with the pair's private key (decrypted for this call only)."""
    scalar = int(crypto.decrypt(pair.private_key_ciphertext, _context(pair.key_id)), 16)
    return _sign_with(ec.derive_private_key(scalar, _CURVE), message)


def _sign_with(private, message: bytes) -> bytes:
    r, s = decode_dss_signature(private.sign(message, _ALGORITHM))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


@dataclass(frozen=True)
class DerivedKey:
    """An SM2 key computed from a master key and a purpose: nothing to store, rotate or re-encrypt.

    Whoever holds the master key can recompute it, exactly as they can recompute the journal's MAC
    key; whoever does not cannot sign. Retired master keys give the retired public keys back, so
    what was signed before a rotation still verifies.
    """

    key_id: str
    public_key: str
    _private: object = field(repr=False, compare=False)

    def sign(self, message: bytes) -> bytes:
        return _sign_with(self._private, message)


@functools.lru_cache(maxsize=16)
def derived(purpose: str, master: str) -> DerivedKey:
    # 320 bits reduced into [1, n-1]: the bias of the reduction is below 2^-64.
    seed = crypto.derived_key(f"sm2:{purpose}", 40, master=master)
    scalar = int.from_bytes(seed, "big") % (ORDER - 1) + 1
    private = ec.derive_private_key(scalar, _CURVE)
    numbers = private.public_key().public_numbers()
    public_key = f"{numbers.x:064x}{numbers.y:064x}"
    return DerivedKey(key_id_of(public_key), public_key, private)


def public_key_object(public_key: str):
    """A loaded public key, for callers that verify many signatures under one key."""
    if len(public_key) != PUBLIC_KEY_HEX:
        raise SM2Error("an SM2 public key is 128 hex characters (x ‖ y)")
    try:
        x, y = int(public_key[:64], 16), int(public_key[64:], 16)
        return ec.EllipticCurvePublicNumbers(x, y, _CURVE).public_key()
    except ValueError as exc:  # not hex, or not a point on the curve
        raise SM2Error(f"not an SM2 public key: {exc}") from None


def verify(public_key, message: bytes, signature: bytes) -> bool:
    """True when `signature` (r ‖ s) is the holder of `public_key`'s signature of `message`.

    `public_key` is the hex text or an object from public_key_object(). A malformed key raises
    SM2Error; a malformed or wrong signature is simply not valid.
    """
    key = public_key_object(public_key) if isinstance(public_key, str) else public_key
    if len(signature) != SIGNATURE_BYTES:
        return False
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if r <= 0 or s <= 0:
        return False
    try:
        key.verify(encode_dss_signature(r, s), message, _ALGORITHM)
    except InvalidSignature:
        return False
    return True


def _context(key_id: str) -> str:
    return f"core.sm2.private_key:{key_id}"
