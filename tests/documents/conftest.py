import pytest

from tongban.documents import services

from ..conftest import actor

BODY = (
    "为进一步优化营商环境，提升食品经营许可审批效率，现将有关事项通知如下。\n"
    "一、工作目标\n"
    "（一）全面推行告知承诺制。\n"
    "1.申请材料齐全、符合法定形式的，当场作出许可决定。\n"
    "（1）各科室要明确责任人。\n"
    "二、工作要求\n"
    "请各单位高度重视，认真抓好落实。"
)


def draft_fields(**overrides) -> dict:
    fields = dict(
        doc_type="notice",
        title="广安区市场监督管理局关于进一步优化食品经营许可审批的通知",
        main_recipients="各科室、各市场监管所：",
        body=BODY,
        attachments="食品经营许可告知承诺书（样式）",
        note="联系人：李审查，电话：0826-1234567",
        cc="区政府办公室，区行政审批局。",
    )
    fields.update(overrides)
    return fields


def make_draft(who="reviewer", **overrides):
    return services.create_draft(actor(who), **draft_fields(**overrides))


@pytest.fixture
def reviewer(db):
    return actor("reviewer")


@pytest.fixture
def bureau_head(db):
    return actor("bureau_head")
