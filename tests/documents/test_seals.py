"""E-seals: a seal per agency held by named staff; 用印 signs the rendered PDF in a GB/T 38540-shaped
structure; verification says who sealed what and when, and catches any changed byte."""

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from asn1crypto import core
from PIL import Image
from pypdf import PdfReader

from tongban.core import events
from tongban.core.errors import Conflict, InvalidInput, NotPermitted
from tongban.documents import seal as seals
from tongban.documents import services
from tongban.documents.models import Seal, Sealing, Status

from ..conftest import actor
from .conftest import make_draft

pytestmark = pytest.mark.django_db
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"


@pytest.fixture
def bureau_seal(db):
    return services.create_seal(
        actor("admin"), agency_code="scjgj", code="scjgj-gwz", holders=["bureau_head"]
    )


@pytest.fixture
def sealed(bureau_seal):
    head = actor("bureau_head")
    document = services.sign(head, make_draft().ref)
    return services.seal_document(head, document.ref, seal_code=bureau_seal.code)


def test_an_agency_seal_has_its_own_key_and_a_red_round_picture_made_from_its_name(bureau_seal):
    assert bureau_seal.name == "广安区市场监督管理局" and len(bureau_seal.public_key) == 128
    assert "广安区" not in bureau_seal.private_key_ciphertext  # encrypted at rest
    image = Image.open(io.BytesIO(bytes(bureau_seal.picture))).convert("RGBA")
    assert image.size == (480, 480)
    raw = image.tobytes()
    pixels = [raw[i : i + 4] for i in range(0, len(raw), 4) if raw[i + 3] > 200]
    assert len(pixels) > 10_000 and all(r > 150 and g < 80 and b < 80 for r, g, b, _a in pixels)
    assert image.getpixel((240, 240))[3] > 200  # the star in the middle
    assert image.getpixel((5, 5))[3] == 0  # transparent outside the ring
    assert list(bureau_seal.holders.values_list("username", flat=True)) == ["bureau_head"]


def test_seal_creation_checks_its_input_and_who_asks(db):
    with pytest.raises(InvalidInput) as exc:
        services.create_seal(actor("admin"), agency_code="nowhere", code="bad code!", holders=["nobody"])
    assert set(exc.value.fields) == {"agency_code", "code", "holders", "name"}  # no agency, no name
    with pytest.raises(NotPermitted):
        services.create_seal(actor("bureau_head"), agency_code="scjgj", code="x1", holders=["bureau_head"])
    with pytest.raises(InvalidInput) as exc:
        services.create_seal(actor("admin"), agency_code="scjgj", code="x2", holders=["reviewer_rs"])
    assert "holders" in exc.value.fields  # another bureau's staff may not hold it
    assert not Seal.objects.exists()


def test_sealing_embeds_a_gbt_38540_shaped_signature_that_verifies(sealed, bureau_seal):
    assert sealed.status == Status.SEALED
    data = services.sealed_pdf(actor("reviewer"), sealed.ref)
    assert PdfReader(io.BytesIO(data)).pages  # still a PDF every reader opens
    assert len(PdfReader(io.BytesIO(data)).pages[-1].images) == 1  # the seal's picture on the last page
    hexed, digest = seals.split(data)
    der = bytes.fromhex(hexed.decode())
    signature = seals.SESSignature.load(der[: seals._der_length(der)])
    to_sign = signature["to_sign"]
    assert signature["signature_alg_id"].dotted == "1.2.156.10197.1.501"
    assert to_sign["data_hash"].native == digest
    info = to_sign["eseal"]["eseal_info"]
    assert info["header"]["id"].native == "ES" and info["es_id"].native == "scjgj-gwz"
    assert info["property"]["name"].native == "广安区市场监督管理局"
    assert info["picture"]["type"].native == "PNG" and info["picture"]["data"].native == bytes(
        bureau_seal.picture
    )
    assert isinstance(to_sign["time_info"], core.GeneralizedTime)
    result = services.verify_file(actor("reviewer_rs"), data)  # anyone holding the file may check it
    assert result.valid and result.status == "valid"
    assert (result.seal_code, result.signer, result.agency) == ("scjgj-gwz", "孙局长", "广安区市场监督管理局")
    assert result.number == sealed.number and result.sealed_at is not None
    assert Sealing.objects.get(document=sealed).digest == digest.hex() == result.digest
    assert [e.activity for e in events.history("document", sealed.ref)][-1] == "document.sealed"
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "document-sealed.pdf").write_bytes(data)
    if shutil.which("pdftoppm"):
        pages = len(PdfReader(io.BytesIO(data)).pages)
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                "60",
                "-png",
                "-f",
                str(pages),
                "-l",
                str(pages),
                "-singlefile",
                str(ARTIFACTS / "document-sealed.pdf"),
                str(ARTIFACTS / "document-sealed-last-page"),
            ],
            check=True,
        )


@pytest.mark.parametrize("where", [0.001, 0.3, 0.5, 0.9, -0.02, -0.5])
def test_one_flipped_byte_anywhere_fails_verification(sealed, where):
    data = bytearray(services.sealed_pdf(actor("reviewer"), sealed.ref))
    at = int(len(data) * where) if where > 0 else len(data) + int(len(data) * where)
    data[at] ^= 0x01
    result = services.verify_file(actor("reviewer"), bytes(data))
    assert not result.valid and result.status in {"changed", "signature", "malformed", "unsealed"}


def test_a_changed_character_or_a_forged_seal_fails(sealed, bureau_seal):
    data = services.sealed_pdf(actor("reviewer"), sealed.ref)
    title = "食品经营许可".encode("utf-16-be")
    assert title not in data  # the text is compressed; change a character of the metadata instead
    changed = data.replace(b"tongban", b"tongbam", 1)
    assert changed != data and not services.verify_file(actor("reviewer"), changed).valid
    # someone re-signs the same file with their own key under the same seal code
    from tongban.core import sm2

    forged_key = seals.SealKey(
        code=bureau_seal.code,
        name=bureau_seal.name,
        picture_png=bytes(bureau_seal.picture),
        key=sm2.generate(),
        created=bureau_seal.created_at,
        valid_until=bureau_seal.valid_until,
    )
    from tongban.documents import render

    plain = render.render_pdf(sealed, seal_image=bytes(bureau_seal.picture)).pdf
    forged = seals.embed(
        plain,
        lambda d: seals.sign(
            forged_key, d, at=bureau_seal.created_at, signer="孙局长", document_ref=sealed.ref
        ),
        room=len(bureau_seal.picture) + seals.SIGNATURE_ROOM,
    )
    result = services.verify_file(actor("reviewer"), forged)
    assert result.status == "unknown_seal" and not result.valid


def test_only_a_holder_seals_and_only_signed_documents(bureau_seal):
    head = actor("bureau_head")
    draft = make_draft()
    with pytest.raises(Conflict):
        services.seal_document(head, draft.ref, seal_code=bureau_seal.code)  # not signed yet
    signed = services.sign(head, draft.ref)
    with pytest.raises(NotPermitted):
        services.seal_document(actor("reviewer"), signed.ref, seal_code=bureau_seal.code)
    with pytest.raises(InvalidInput):
        services.seal_document(head, signed.ref, seal_code="nope")
    with pytest.raises(Conflict):
        services.sealed_pdf(head, signed.ref)
    assert not Sealing.objects.exists()


def test_verifying_bad_input_is_a_field_error(db):
    for data, code in ((b"", "required"), (b"GIF89a", "type")):
        with pytest.raises(InvalidInput) as exc:
            services.verify_file(actor("reviewer"), data)
        assert exc.value.fields["file"][0].code == code
    unsealed = services.pdf(actor("reviewer"), make_draft().ref)
    assert services.verify_file(actor("reviewer"), unsealed).status == "unsealed"
