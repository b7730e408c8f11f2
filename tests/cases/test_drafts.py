"""暂存: an online application saved part-way, resumed, submitted with the files it kept, discarded,
purged; and what a submission with problems keeps."""

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests import samples
from tongban.cases import services
from tongban.cases.models import ApplicationDraft, Case, MaterialStatus
from tongban.core import files as file_store
from tongban.core.errors import InvalidInput, NotFound, NotPermitted
from tongban.core.models import AuditEntry

from .test_lifecycle import RESTAURANT, _actor, _data, _item
from .test_portal_views import _errors, _key, _login, _staff

PDF = "application/pdf"


@pytest.fixture
def code(db):
    return _item()


def _pdf(text="sample"):
    return ("scan.pdf", samples.pdf(text))


def _file(name="plan.pdf", text="sample") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, samples.pdf(text), content_type=PDF)


# --- services ----------------------------------------------------------------------------------------


def test_a_draft_keeps_the_form_as_typed_and_its_files_encrypted(code):
    zhangsan = _actor("zhangsan")
    draft = services.save_draft(
        zhangsan,
        item_code=code,
        data={"enterprise_name": "广安区示例餐饮", "area": "很多", "unknown": "x"},
        enterprise_uscc=RESTAURANT,
        files={"平面图": _pdf("plan")},
    )
    # Unchecked values are kept as typed (a draft may be wrong or half done); unknown keys are not.
    assert draft.data == {"enterprise_name": "广安区示例餐饮", "area": "很多"}
    assert draft.enterprise_uscc == RESTAURANT and set(draft.files) == {"平面图"}
    row = ApplicationDraft.objects.get()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT content FROM cases_applicationdraft WHERE id = %s", [row.pk])
        stored = cursor.fetchone()[0]
    assert "广安区" not in stored and RESTAURANT not in stored and "scan.pdf" not in stored
    # Saving again replaces the values, keeps the files, and stays one draft per item.
    again = services.save_draft(zhangsan, item_code=code, data={"enterprise_name": "新名称"})
    assert again.id == draft.id and again.data == {"enterprise_name": "新名称"}
    assert set(again.files) == {"平面图"}
    assert ApplicationDraft.objects.count() == 1
    assert services.draft_for(zhangsan, item_code=code).data == {"enterprise_name": "新名称"}
    assert AuditEntry.objects.filter(action="cases.draft.save", object_ref=str(draft.id)).count() == 2


def test_a_bad_file_is_refused_at_saving_with_the_material_named_and_nothing_changes(code):
    zhangsan = _actor("zhangsan")
    with pytest.raises(InvalidInput) as refused:
        services.save_draft(
            zhangsan, item_code=code, data={}, files={"平面图": ("plan.pdf", b"MZ\x90\x00 not a pdf")}
        )
    assert any(name.startswith("files.") for name in refused.value.fields)
    with pytest.raises(InvalidInput) as unknown:
        services.save_draft(zhangsan, item_code=code, data={}, files={"无此材料": _pdf()})
    assert "files.无此材料" in unknown.value.fields
    with pytest.raises(InvalidInput) as long_value:
        services.save_draft(zhangsan, item_code=code, data={"enterprise_name": "长" * 2001})
    assert "data.enterprise_name" in long_value.value.fields
    assert not ApplicationDraft.objects.exists()


def test_only_the_owner_sees_or_discards_a_draft(code):
    zhangsan, lisi = _actor("zhangsan"), _actor("lisi")
    draft = services.save_draft(zhangsan, item_code=code, data={"area": "1"}, files={"平面图": _pdf()})
    assert services.draft_for(lisi, item_code=code) is None
    assert services.my_drafts(lisi) == []
    with pytest.raises(NotFound):
        services.discard_draft(lisi, draft.id)
    assert ApplicationDraft.objects.filter(pk=draft.id).exists()
    with pytest.raises(NotPermitted):
        services.save_draft(_actor("clerk"), item_code=code, data={})
    assert services.my_drafts(_actor("clerk")) == []  # staff have none, and their pages open


def test_discarding_a_draft_deletes_its_files_unless_another_draft_holds_them(
    code, django_capture_on_commit_callbacks
):
    zhangsan = _actor("zhangsan")
    other = _item(code="CASE-ITEM-2")
    first = services.save_draft(zhangsan, item_code=code, data={}, files={"平面图": _pdf("same")})
    second = services.save_draft(zhangsan, item_code=other, data={}, files={"平面图": _pdf("same")})
    ref = first.files["平面图"]["file_ref"]
    assert second.files["平面图"]["file_ref"] == ref  # equal content, one stored file
    with django_capture_on_commit_callbacks(execute=True):
        services.discard_draft(zhangsan, first.id)
    assert services.kept_files(services.draft_for(zhangsan, item_code=other))["平面图"][1] == samples.pdf(
        "same"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.discard_draft(zhangsan, second.id)
    with pytest.raises(NotFound):
        file_store.load(ref, context=f"cases.draft:{zhangsan.user.pk}")


def test_submitting_uses_the_drafts_files_and_key_then_drops_the_draft(code):
    zhangsan = _actor("zhangsan")
    services.save_draft(
        zhangsan, item_code=code, data=_data(), files={"营业执照": _pdf("licence"), "平面图": _pdf("plan")}
    )
    case = services.apply_with_draft(
        zhangsan, item_code=code, data=_data(), files={"平面图": _pdf("a better plan")}
    )
    provided = {m.name: m for m in case.materials.all()}
    assert provided["营业执照"].status == "provided" and provided["营业执照"].file_name == "scan.pdf"
    assert services.material_file(zhangsan, case.number, provided["平面图"].pk)[2] == samples.pdf(
        "a better plan"
    )
    assert provided["管理制度"].status == MaterialStatus.PENDING
    assert not ApplicationDraft.objects.exists()
    assert AuditEntry.objects.filter(action="cases.draft.discard").count() == 1


def test_a_submission_with_problems_keeps_the_form_and_the_good_files(code):
    zhangsan = _actor("zhangsan")
    with pytest.raises(InvalidInput) as problems:
        services.apply_with_draft(
            zhangsan,
            item_code=code,
            data={**_data(), "uscc": "123"},
            files={"营业执照": _pdf("licence"), "平面图": ("plan.pdf", b"%PDF-1.4 broken")},
        )
    assert "data.uscc" in problems.value.fields
    assert not Case.objects.exists()
    draft = services.draft_for(zhangsan, item_code=code)
    assert draft.data["uscc"] == "123" and set(draft.files) == {"营业执照"}
    # Fixed and sent again: one case, with the kept file; a removed kept file is not sent.
    case = services.apply_with_draft(zhangsan, item_code=code, data=_data(), remove=["营业执照"])
    assert {m.name: m.status for m in case.materials.all()}["营业执照"] == MaterialStatus.PENDING
    assert services.draft_for(zhangsan, item_code=code) is None


def test_a_draft_submitted_twice_makes_one_case(code):
    zhangsan = _actor("zhangsan")
    draft = services.save_draft(zhangsan, item_code=code, data=_data())
    first = services.apply_online(
        zhangsan, item_code=code, data=_data(), idempotency_key=draft.idempotency_key
    )
    # The draft is still there (say the discard was lost): submitting it returns the same case.
    second = services.apply_with_draft(zhangsan, item_code=code, data=_data())
    assert first.pk == second.pk and Case.objects.count() == 1


def test_drafts_expire_and_are_purged_with_their_files(code, settings):
    settings.TONGBAN_DRAFT_DAYS = 30
    zhangsan = _actor("zhangsan")
    long_ago = timezone.now() - dt.timedelta(days=31)
    draft = services.save_draft(
        zhangsan, item_code=code, data={"area": "1"}, files={"平面图": _pdf()}, now=long_ago
    )
    assert services.draft_for(zhangsan, item_code=code) is None  # expired: not offered any more
    assert services.my_drafts(zhangsan) == []
    fresh = _item(code="CASE-ITEM-3")
    services.save_draft(zhangsan, item_code=fresh, data={})
    assert services.purge_expired_drafts() == 1
    assert list(ApplicationDraft.objects.values_list("item_code", flat=True)) == [fresh]
    with pytest.raises(NotFound):
        file_store.load(draft.files["平面图"]["file_ref"], context=f"cases.draft:{zhangsan.user.pk}")


def test_an_account_keeps_a_bounded_number_of_drafts(code, settings):
    settings.TONGBAN_DRAFTS_PER_ACCOUNT = 1
    zhangsan = _actor("zhangsan")
    services.save_draft(zhangsan, item_code=code, data={})
    services.save_draft(zhangsan, item_code=code, data={"area": "2"})  # the same draft again: fine
    with pytest.raises(InvalidInput) as refused:
        services.save_draft(zhangsan, item_code=_item(code="CASE-ITEM-4"), data={})
    assert "draft" in refused.value.fields


# --- pages -------------------------------------------------------------------------------------------


def test_save_resume_and_submit_in_the_browser_form(code):
    zhangsan = _login("zhangsan")
    url = f"/services/items/{code}/apply"
    page = zhangsan.get(url).content.decode()
    assert 'data-testid="apply-save"' in page and 'data-testid="draft-banner"' not in page
    # The steps are listed in order, and the 免提交 consent comes before the uploads.
    steps = re.findall(r'href="#step-([a-z]+)"', page)
    assert steps[0] == "applicant" and steps[-1] == "submit" and "materials" in steps
    saved = zhangsan.post(
        url,
        {
            "idempotency_key": _key(page),
            "action": "save",
            "data.enterprise_name": "半成品",
            "files.1": _file(),
        },
    )
    assert saved.status_code == 302 and saved["Location"] == url
    resumed = zhangsan.get(url).content.decode()
    assert 'data-testid="draft-banner"' in resumed and 'value="半成品"' in resumed
    assert 'data-testid="kept-file" data-material="平面图"' in resumed
    home = zhangsan.get("/").content.decode()
    assert 'data-testid="my-drafts"' in home and url in home
    # Submitted: the kept file goes with the case, and the draft is gone from 我的.
    done = zhangsan.post(
        url, {"idempotency_key": _key(resumed), **{f"data.{k}": v for k, v in _data().items()}}
    )
    assert done.status_code == 302
    case = Case.objects.get()
    assert {m.name: m.status for m in case.materials.all()}["平面图"] == "provided"
    assert 'data-testid="my-drafts"' not in zhangsan.get("/").content.decode()


def test_a_bad_save_shows_field_errors_and_keeps_the_previous_draft(code):
    zhangsan = _login("zhangsan")
    url = f"/services/items/{code}/apply"
    page = zhangsan.get(url).content.decode()
    zhangsan.post(url, {"idempotency_key": _key(page), "action": "save", "data.area": "1"})
    bad = SimpleUploadedFile("plan.pdf", b"GIF89a not a pdf at all", content_type=PDF)
    response = zhangsan.post(
        url, {"idempotency_key": _key(page), "action": "save", "data.area": "2", "files.1": bad}
    )
    assert response.status_code == 200 and "files.1" in _errors(response.content.decode())
    assert services.draft_for(_actor("zhangsan"), item_code=code).data == {"area": "1"}


def test_another_account_cannot_discard_a_draft_and_staff_cannot_save_one(code):
    draft = services.save_draft(_actor("zhangsan"), item_code=code, data={"area": "1"})
    lisi = _login("lisi")
    assert lisi.post(f"/my/drafts/{draft.id}/discard").status_code == 404
    assert ApplicationDraft.objects.filter(pk=draft.id).exists()
    zhangsan = _login("zhangsan")
    # A discard never sends the browser off the site, whatever `next` says.
    response = zhangsan.post(f"/my/drafts/{draft.id}/discard", {"next": "https://evil.example/x"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert not ApplicationDraft.objects.exists()
    clerk = _staff("clerk")
    assert clerk.post(f"/services/items/{code}/apply", {"action": "save"}).status_code in (403, 404)
