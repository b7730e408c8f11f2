"""SM2 signatures: ours verify elsewhere (gmssl), theirs verify here, and tampering is caught."""

import pytest
from gmssl import sm2 as gmssl_sm2

from tongban.core import crypto, sm2

MESSAGE = '{"type":"食品经营许可证","holder":"91511602MA62K3LP0X","valid_until":"2031-11-22"}'.encode()


@pytest.fixture(scope="module")
def pair():
    return sm2.generate()


def _gmssl(pair):
    scalar = crypto.decrypt(pair.private_key_ciphertext, f"core.sm2.private_key:{pair.key_id}")
    return gmssl_sm2.CryptSM2(private_key=scalar, public_key=pair.public_key)


def test_sign_and_verify(pair):
    signature = sm2.sign(pair, MESSAGE)
    assert len(signature) == 64 and len(pair.public_key) == 128
    assert sm2.verify(pair.public_key, MESSAGE, signature)
    assert sm2.key_id_of(pair.public_key) == pair.key_id


def test_a_second_implementation_agrees_both_ways(pair):
    """GB/T 32918 with SM3 over Z ‖ M (default ID): gmssl verifies ours, and we verify gmssl's."""
    ours = sm2.sign(pair, MESSAGE)
    assert _gmssl(pair).verify_with_sm3(ours.hex(), MESSAGE)
    theirs = bytes.fromhex(_gmssl(pair).sign_with_sm3(MESSAGE))
    assert sm2.verify(pair.public_key, MESSAGE, theirs)


def test_tampered_messages_and_signatures_fail(pair):
    signature = sm2.sign(pair, MESSAGE)
    assert not sm2.verify(pair.public_key, MESSAGE.replace(b"2031", b"2036"), signature)
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    assert not sm2.verify(pair.public_key, MESSAGE, flipped)
    assert not sm2.verify(pair.public_key, MESSAGE, signature[:63])
    assert not sm2.verify(pair.public_key, MESSAGE, bytes(64))
    other = sm2.generate()
    assert not sm2.verify(other.public_key, MESSAGE, signature)


def test_malformed_public_keys_are_reported():
    with pytest.raises(sm2.SM2Error):
        sm2.verify("00" * 10, MESSAGE, bytes(64))
    with pytest.raises(sm2.SM2Error):
        sm2.verify("zz" * 64, MESSAGE, bytes(64))
    with pytest.raises(sm2.SM2Error):  # a point that is not on the curve
        sm2.verify("01" * 64, MESSAGE, bytes(64))


def test_private_keys_are_ciphertext_bound_to_their_key(pair):
    assert pair.private_key_ciphertext.startswith(crypto.CIPHERTEXT_PREFIX)
    scalar = crypto.decrypt(pair.private_key_ciphertext, f"core.sm2.private_key:{pair.key_id}")
    assert scalar not in pair.private_key_ciphertext
    other = sm2.generate()
    swapped = sm2.KeyPair(other.key_id, other.public_key, pair.private_key_ciphertext)
    with pytest.raises(crypto.DecryptionError):
        sm2.sign(swapped, MESSAGE)


MASTER_A = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
MASTER_B = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"


def test_a_derived_key_is_the_same_for_one_master_and_purpose_and_no_other():
    a = sm2.derived("test-purpose", MASTER_A)
    assert a == sm2.derived("test-purpose", MASTER_A)
    assert a.key_id == sm2.key_id_of(a.public_key)
    others = {
        sm2.derived("other-purpose", MASTER_A).public_key,
        sm2.derived("test-purpose", MASTER_B).public_key,
    }
    assert a.public_key not in others and len(others) == 2
    assert "_private" not in repr(a)


def test_a_derived_key_signs_what_a_second_implementation_verifies():
    key = sm2.derived("test-purpose", MASTER_A)
    signature = key.sign(MESSAGE)
    assert sm2.verify(key.public_key, MESSAGE, signature)
    assert gmssl_sm2.CryptSM2(private_key=None, public_key=key.public_key).verify_with_sm3(
        signature.hex(), MESSAGE
    )
    assert not sm2.verify(sm2.derived("test-purpose", MASTER_B).public_key, MESSAGE, signature)
