"""OFD (GB/T 33190) written by us, read back by an independent reader (ofdkit, Apache-2.0, in tests
only): the text and the place of every element as in the PDF; the package's structure as the
standard has it."""

import io
import zipfile

import ofdkit
import pytest
from defusedxml import ElementTree

from tongban.documents import ofd, render, services

from ..conftest import actor
from .conftest import make_draft

pytestmark = pytest.mark.django_db
NS = {"ofd": ofd.NS}


@pytest.fixture
def signed(db):
    return services.sign(actor("bureau_head"), make_draft().ref)


def test_the_package_has_the_parts_of_the_standard_with_unique_ids(signed):
    data = ofd.render_ofd(signed)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert names[0] == "OFD.xml" and "Doc_0/Document.xml" in names and "Doc_0/PublicRes.xml" in names
    parts = ofd.read_parts(data)
    root = ElementTree.fromstring(parts["OFD.xml"])
    assert root.tag == f"{{{ofd.NS}}}OFD" and root.get("DocType") == "OFD"
    assert root.find("ofd:DocBody/ofd:DocRoot", NS).text == "Doc_0/Document.xml"
    document = ElementTree.fromstring(parts["Doc_0/Document.xml"])
    max_id = int(document.find("ofd:CommonData/ofd:MaxUnitID", NS).text)
    ids = []
    for name, content in parts.items():
        if name.endswith(".xml"):
            ids += [int(e.get("ID")) for e in ElementTree.fromstring(content).iter() if e.get("ID")]
    assert len(ids) == len(set(ids)) and max(ids) == max_id
    assert ofd.render_ofd(signed) == data  # equal documents, equal bytes


def test_an_independent_reader_finds_the_text_where_the_pdf_has_it(signed):
    rendered = render.render_pdf(signed, record=True)
    data = ofd.write(signed, rendered)
    with ofdkit.open(io.BytesIO(data)) as read:
        assert len(read.pages) == rendered.pages
        assert read.info.title == signed.title
        text = read.text()
        for expected in (signed.title.replace(" ", "")[:20], signed.number, "工作目标", "抄送"):
            assert expected in text.replace("\n", "").replace(" ", "")
        runs = read.pages[0].runs
    mark = next(r for r in runs if r.text == signed.mark)
    place = rendered.places["mark"]
    assert abs(mark.x - place.x) < 0.5 and place.y < mark.y < place.y + place.h + 1
    number = next(r for r in runs if r.text == signed.number)
    assert abs(number.x - rendered.places["number"].x) < 0.5
    # Body lines: 28 characters to the line on the grid, as in the PDF.
    first_page = [text for page, _slot, text in rendered.body_lines if page == 1]
    read_lines = [r.text for r in runs]
    assert all(line in read_lines for line in first_page)


@pytest.fixture
def sealed(signed):
    services.create_seal(actor("admin"), agency_code="scjgj", code="scjgj-ofd", holders=["bureau_head"])
    return services.seal_document(actor("bureau_head"), signed.ref, seal_code="scjgj-ofd")


def _repack(data: bytes, change) -> bytes:
    parts = ofd.read_parts(data)
    change(parts)
    return ofd.package(parts)


def test_a_sealed_ofd_verifies_and_fails_after_any_change(sealed):
    data = services.ofd_file(actor("bureau_head"), sealed.ref)
    parts = ofd.read_parts(data)
    assert {ofd.SIGNATURE, ofd.SIGNED_VALUE} <= set(parts) and any(n.endswith(".png") for n in parts)
    result = services.verify_file(actor("reviewer"), data)
    assert result.valid and result.seal_code == "scjgj-ofd" and result.number == sealed.number
    assert result.signer == "孙局长"
    # The independent reader still reads the sealed file.
    with ofdkit.open(io.BytesIO(data)) as read:
        assert sealed.number in read.text()
    # One character of the text changed, the package rebuilt: the part's digest no longer matches.
    content = "Doc_0/Pages/Page_0/Content.xml"
    changed = _repack(
        data, lambda p: p.__setitem__(content, p[content].replace("通知".encode(), "通告".encode(), 1))
    )
    assert services.verify_file(actor("reviewer"), changed).status == "changed"
    # A part added after sealing is refused too.
    added = _repack(data, lambda p: p.__setitem__("Doc_0/Res/extra.png", b"x"))
    assert services.verify_file(actor("reviewer"), added).status == "changed"
    # One byte flipped anywhere in the file: never valid.
    for position in (len(data) // 3, len(data) // 2, len(data) - 30):
        flipped = bytearray(data)
        flipped[position] ^= 0x01
        try:
            outcome = services.verify_file(actor("reviewer"), bytes(flipped))
        except Exception as exc:
            outcome = exc
        assert getattr(outcome, "valid", False) is False
    # The signature over Signature.xml: editing a reference's value breaks the seal itself.
    forged = _repack(
        data,
        lambda p: p.__setitem__(ofd.SIGNATURE, p[ofd.SIGNATURE].replace(b"CheckValue>", b"CheckValue>A", 1)),
    )
    assert services.verify_file(actor("reviewer"), forged).status == "changed"
