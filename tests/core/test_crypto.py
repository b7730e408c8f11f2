"""国密 primitives, encryption of personal data at rest, and masking.

Known-answer vectors come from the standards (GB/T 32905 for SM3, GB/T 32907 for SM4); the key
schedule is re-derived here with hashlib/hmac (RFC 5869 written out) and the SM4 keystream is
checked against gmssl's pure-Python SM4, so the tests do not trust tongban.core.crypto to check itself.
"""

import base64
import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.db import connection
from gmssl.sm4 import SM4_ENCRYPT, CryptSM4

from tongban.accounts.models import Person
from tongban.accounts.services import find_person_by_id_number, register_person
from tongban.core import crypto
from tongban.core.authz import SYSTEM
from tongban.core.crypto import DecryptionError, blind_index, decrypt, encrypt
from tongban.core.masking import mask_id_number, mask_name, mask_phone

KEY_A = "a0" * 32
KEY_B = "b1" * 32
CTX = "tests.Thing.secret"


# --- independent reference of the key schedule --------------------------------------------------


def ref_hmac_sm3(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, "sm3").digest()


def ref_hkdf_sm3(master_hex: str, info: str, length: int) -> bytes:
    """RFC 5869 with SM3, salt "tongban-kdf-v1", as crypto.py's docstring describes the scheme."""
    prk = ref_hmac_sm3(b"tongban-kdf-v1", bytes.fromhex(master_hex))
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = ref_hmac_sm3(prk, block + info.encode() + bytes([counter]))
        okm += block
        counter += 1
    return okm[:length]


def ref_key_id(key: bytes) -> str:
    return hashlib.new("sm3", b"tongban-key-id" + key).hexdigest()[:8]


def split_token(ciphertext: str) -> tuple[str, str, bytes]:
    prefix, kid, token = ciphertext.split("$")
    return prefix, kid, base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def join_token(prefix: str, kid: str, raw: bytes) -> str:
    return f"{prefix}${kid}${base64.urlsafe_b64encode(raw).decode().rstrip('=')}"


@pytest.fixture
def master_a(settings):
    settings.TONGBAN_MASTER_KEY = KEY_A
    settings.TONGBAN_MASTER_KEYS_OLD = []
    return settings


# --- SM3 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "digest"),
    [
        (b"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
        (b"abcd" * 16, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"),
    ],
)
def test_sm3_known_answers(message, digest):
    # GB/T 32905-2016, appendix A, examples 1 and 2.
    assert crypto.sm3_hex(message) == digest
    assert crypto.sm3(message) == bytes.fromhex(digest)


def test_hmac_sm3_matches_rfc2104_construction():
    key, data = b"k" * 20, b"what do ya want for nothing?"
    # HMAC written out: H((K ^ opad) || H((K ^ ipad) || m)), block size 64.
    padded = key.ljust(64, b"\0")
    inner = hashlib.new("sm3", bytes(b ^ 0x36 for b in padded) + data).digest()
    outer = hashlib.new("sm3", bytes(b ^ 0x5C for b in padded) + inner).digest()
    assert crypto.hmac_sm3(key, data) == outer
    assert crypto.hmac_sm3(key, data + b"!") != outer


# --- SM4 ----------------------------------------------------------------------------------------


def test_sm4_known_answer_through_cryptography():
    # GB/T 32907-2016, appendix A, example 1: key = plaintext.
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()  # noqa: S305  (a single-block known-answer test)
    assert (encryptor.update(key) + encryptor.finalize()).hex() == "681edf34d206965e86b3e94f536e4246"
    # ... and gmssl's independent pure-Python SM4 says the same.
    reference = CryptSM4()
    reference.set_key(key, SM4_ENCRYPT)
    assert reference.crypt_ecb(key)[:16].hex() == "681edf34d206965e86b3e94f536e4246"


def test_ciphertext_is_sm4_gcm_under_the_derived_key(master_a):
    plaintext = "110101199003070021 张三"
    ciphertext = encrypt(plaintext, CTX)
    prefix, kid, raw = split_token(ciphertext)
    key = ref_hkdf_sm3(KEY_A, "pii-sm4-v1", 16)
    assert prefix == "sm4gcm"
    assert kid == ref_key_id(key)
    nonce, body, tag = raw[:12], raw[12:-16], raw[-16:]
    assert len(body) == len(plaintext.encode())
    # GCM with a 96-bit nonce encrypts block i with E_K(nonce || i+2): check the first block with gmssl.
    reference = CryptSM4()
    reference.set_key(key, SM4_ENCRYPT)
    keystream = reference.crypt_ecb(nonce + (2).to_bytes(4, "big"))[:16]
    assert bytes(a ^ b for a, b in zip(body[:16], keystream, strict=True)) == plaintext.encode()[:16]
    # The whole thing, including the tag over the context, opens with the standard GCM decryptor.
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(CTX.encode())
    assert (decryptor.update(body) + decryptor.finalize()).decode() == plaintext


@pytest.mark.parametrize("plaintext", ["", "x", "110101199003070021", "13800138000", "张三丰" * 50, "a$b$c"])
def test_round_trip(master_a, plaintext):
    ciphertext = encrypt(plaintext, CTX)
    assert ciphertext.startswith("sm4gcm$")
    assert decrypt(ciphertext, CTX) == plaintext


def test_ciphertext_differs_each_time(master_a):
    ciphertexts = {encrypt("110101199003070021", CTX) for _ in range(50)}
    assert len(ciphertexts) == 50
    nonces = {split_token(c)[2][:12] for c in ciphertexts}
    assert len(nonces) == 50
    assert all(decrypt(c, CTX) == "110101199003070021" for c in ciphertexts)


def test_wrong_context_fails(master_a):
    ciphertext = encrypt("110101199003070021", "accounts.Person.id_number")
    with pytest.raises(DecryptionError):
        decrypt(ciphertext, "accounts.Person.phone")
    with pytest.raises(DecryptionError):
        decrypt(ciphertext, "")
    assert decrypt(ciphertext, "accounts.Person.id_number") == "110101199003070021"


def test_flipping_any_byte_fails(master_a):
    ciphertext = encrypt("110101199003070021", CTX)
    prefix, kid, raw = split_token(ciphertext)
    assert decrypt(join_token(prefix, kid, raw), CTX) == "110101199003070021"
    for i in range(len(raw)):
        for bit in (0x01, 0x80):
            tampered = raw[:i] + bytes([raw[i] ^ bit]) + raw[i + 1 :]
            with pytest.raises(DecryptionError):
                decrypt(join_token(prefix, kid, tampered), CTX)


def test_malformed_ciphertexts_raise_decryption_error(master_a):
    ciphertext = encrypt("110101199003070021", CTX)
    prefix, kid, token = ciphertext.split("$")
    bad = [
        "",
        "plain text",
        "110101199003070021",
        f"aes$${kid}${token}",
        f"aesgcm${kid}${token}",
        f"{prefix}$00000000${token}",  # unknown key id
        f"{prefix}${kid}$",
        f"{prefix}${kid}${token[:-1]}",  # truncated: invalid base64 length
        f"{prefix}${kid}${token[:20]}",  # shorter than nonce + tag
        f"{prefix}${kid}${token[:-4]}",  # tag cut
        f"{prefix}${kid}${token}AAAA",  # bytes appended
        f"{prefix}${kid}${token}é",  # not ASCII
        f"{prefix}${kid}${token[::-1]}",
    ]
    for value in bad:
        with pytest.raises(DecryptionError):
            decrypt(value, CTX)


def test_key_rotation(settings):
    settings.TONGBAN_MASTER_KEY = KEY_A
    settings.TONGBAN_MASTER_KEYS_OLD = []
    old_ciphertext = encrypt("110101199003070021", CTX)

    settings.TONGBAN_MASTER_KEY = KEY_B
    with pytest.raises(DecryptionError):
        decrypt(old_ciphertext, CTX)  # the old key is not listed

    settings.TONGBAN_MASTER_KEYS_OLD = ["c2" * 32, KEY_A]
    assert decrypt(old_ciphertext, CTX) == "110101199003070021"
    new_ciphertext = encrypt("110101199003070021", CTX)
    assert split_token(new_ciphertext)[1] == ref_key_id(ref_hkdf_sm3(KEY_B, "pii-sm4-v1", 16))
    assert split_token(new_ciphertext)[1] != split_token(old_ciphertext)[1]
    assert decrypt(new_ciphertext, CTX) == "110101199003070021"

    # Retiring the old key again makes its ciphertexts unreadable; the new one still works.
    settings.TONGBAN_MASTER_KEYS_OLD = []
    with pytest.raises(DecryptionError):
        decrypt(old_ciphertext, CTX)
    assert decrypt(new_ciphertext, CTX) == "110101199003070021"


def test_short_master_key_is_refused(settings):
    settings.TONGBAN_MASTER_KEY = "00" * 15
    with pytest.raises(ValueError, match="128 bits"):
        encrypt("x", CTX)


# --- blind index --------------------------------------------------------------------------------


def test_blind_index_is_keyed_sm3(master_a):
    key = ref_hkdf_sm3(KEY_A, "pii-index-v1", 32)
    expected = ref_hmac_sm3(key, b"accounts.Person.id_number\x00110101199003070021").hex()
    assert blind_index("110101199003070021", "accounts.Person.id_number") == expected
    # Not a plain, unkeyed hash of the value.
    assert expected != hashlib.new("sm3", b"110101199003070021").hexdigest()


def test_blind_index_stability_and_separation(settings):
    settings.TONGBAN_MASTER_KEY = KEY_A
    first = blind_index("110101199003070021", "accounts.Person.id_number")
    assert blind_index("110101199003070021", "accounts.Person.id_number") == first
    assert len(first) == 64
    assert blind_index("110101199003070021", "accounts.Person.phone") != first
    assert blind_index("110101199003070022", "accounts.Person.id_number") != first
    # The separator keeps (context, value) pairs apart: "a" + "bc" is not "ab" + "c".
    assert blind_index("bc", "a") != blind_index("c", "ab")
    settings.TONGBAN_MASTER_KEY = KEY_B
    assert blind_index("110101199003070021", "accounts.Person.id_number") != first
    settings.TONGBAN_MASTER_KEY = KEY_A
    assert blind_index("110101199003070021", "accounts.Person.id_number") == first


def test_constant_time_equal():
    assert crypto.constant_time_equal("abc", "abc")
    assert not crypto.constant_time_equal("abc", "abd")
    assert not crypto.constant_time_equal("abc", "ab")


# --- encryption at rest -------------------------------------------------------------------------


def _id_number(region: str, yyyymmdd: str, seq: str) -> str:
    first17 = region + yyyymmdd + seq
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights, strict=True)) % 11]


def _raw_row(person_id: int) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM accounts_person WHERE id = %s", [person_id])
        return cursor.fetchone()


def test_person_data_is_encrypted_at_rest(db):
    number = _id_number("110105", "19770404", "417")
    assert number == "11010519770404417" + number[-1]
    assert find_person_by_id_number(number) is None
    person = register_person(SYSTEM, name="测试人", id_number=number, phone="+86 139-0000-1234")

    raw_id, raw_phone = _raw_row(person.pk)
    for raw, plain in ((raw_id, number), (raw_phone, "13900001234")):
        assert raw.startswith("sm4gcm$")
        assert plain not in raw
        assert plain[-6:] not in raw
    assert raw_id != raw_phone
    # The column holds SM4-GCM under the field's own context.
    assert decrypt(raw_id, "accounts.Person.id_number") == number
    assert decrypt(raw_phone, "accounts.Person.phone") == "13900001234"
    with pytest.raises(DecryptionError):
        decrypt(raw_id, "accounts.Person.phone")

    # Python code sees plaintext.
    fresh = Person.objects.get(pk=person.pk)
    assert (fresh.id_number, fresh.phone) == (number, "13900001234")

    # Lookup goes through the blind index, whatever form the number is typed in.
    assert find_person_by_id_number(number).pk == person.pk
    spaced = f"{number[:6]} {number[6:14]} {number[14:]}"
    assert find_person_by_id_number(spaced).pk == person.pk
    assert find_person_by_id_number(number[:17] + ("0" if number[17] != "0" else "1")) is None
    assert find_person_by_id_number("not a number") is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM accounts_person WHERE id_number = %s", [number])
        assert cursor.fetchone()[0] == 0


def test_legacy_number_finds_the_same_person(db):
    number = _id_number("110105", "19770405", "418")
    person = register_person(SYSTEM, name="旧号码", id_number=number)
    legacy = number[:6] + number[8:17]  # 15-digit form: no century, no check character
    assert find_person_by_id_number(legacy).pk == person.pk
    assert _raw_row(person.pk)[1] == ""  # no phone: nothing encrypted


def test_ciphertext_moved_to_another_column_does_not_decrypt(db):
    number = _id_number("110105", "19770406", "419")
    person = register_person(SYSTEM, name="挪列", id_number=number, phone="13900001235")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_person SET phone = id_number WHERE id = %s", [person.pk])
    with pytest.raises(DecryptionError):
        Person.objects.get(pk=person.pk)


# --- masking ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("110101199003071234", "110101********1234"),
        ("11010119900307123X", "110101********123X"),
        ("110101900307123", "110101*****7123"),
        ("12345678901", "123456*8901"),
        ("1234567890", "**********"),
        ("123", "***"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_id_number(value, masked):
    assert mask_id_number(value) == masked
    if value and len(value) >= 15:
        assert value[6:14] not in mask_id_number(value)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13812345678", "138****5678"),
        ("13800138000", "138****8000"),
        ("123456", "******"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_phone(value, masked):
    assert mask_phone(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [("张三丰", "张*丰"), ("张三", "张*"), ("欧阳娜娜", "欧**娜"), ("张", "张"), ("", ""), (None, "")],
)
def test_mask_name(value, masked):
    assert mask_name(value) == masked


def test_decrypt_many_opens_what_decrypt_opens_and_refuses_what_it_refuses(settings):
    settings.TONGBAN_MASTER_KEY = KEY_A
    settings.TONGBAN_MASTER_KEYS_OLD = []
    old = encrypt("旧密钥加密的记录", CTX)
    settings.TONGBAN_MASTER_KEY = KEY_B
    settings.TONGBAN_MASTER_KEYS_OLD = [KEY_A]  # after a rotation both keys open in one batch
    values = ["110101199003070021", "", "广安示例企业有限公司 " * 20]
    batch = [encrypt(v, CTX) for v in values] + [old]
    assert crypto.decrypt_many(batch, CTX) == [*values, "旧密钥加密的记录"]
    assert crypto.decrypt_many(iter(batch), CTX) == [decrypt(c, CTX) for c in batch]
    prefix, kid, raw = split_token(batch[0])
    tampered = join_token(prefix, kid, raw[:-1] + bytes([raw[-1] ^ 1]))
    with pytest.raises(DecryptionError):
        crypto.decrypt_many([batch[1], tampered], CTX)
    with pytest.raises(DecryptionError):
        crypto.decrypt_many(batch, "accounts.Person.phone")  # another field's context
    settings.TONGBAN_MASTER_KEYS_OLD = []
    with pytest.raises(DecryptionError):  # the retired key is no longer listed
        crypto.decrypt_many(batch, CTX)
