"""Guide assistant endpoints: ask (public), record a click and hand a question to a person."""

from ninja import Field, Query, Router, Schema, Status

from tongban.core.i18n import bilingual

from . import services

router = Router(tags=["guide"])


class GuideHitOut(Schema):
    code: str
    name: str
    score: float
    coverage: float


class GuideCardOut(Schema):
    code: str
    name: str
    item_type: str
    department: str
    where: str
    materials: list[str]
    promised_limit_days: int | None
    statutory_limit_days: int | None
    fee: str
    online_level: str
    can_apply: bool


class GuideOptionOut(Schema):
    index: int
    label: dict[str, str]


class GuideClarificationOut(Schema):
    code: str
    question: dict[str, str]
    options: list[GuideOptionOut]


class GuideAnswerOut(Schema):
    question: str
    outcome: str = Field(..., description="answered, clarify or declined")
    ranked_codes: list[str] = Field(..., description="best first; empty when declined")
    hits: list[GuideHitOut]
    clarification: GuideClarificationOut | None
    cards: list[GuideCardOut]
    elapsed_ms: float


def answer_out(answer: services.Answer) -> dict:
    c = answer.clarification
    return {
        "question": answer.question,
        "outcome": answer.outcome,
        "ranked_codes": answer.codes,
        "hits": [h.__dict__ for h in answer.hits],
        "clarification": None
        if c is None
        else {
            "code": c.code,
            "question": {"zh-Hans": c.question_zh, "en": c.question_en},
            "options": [
                {"index": i, "label": {"zh-Hans": zh, "en": en}}
                for i, (zh, en, _w, _m) in enumerate(c.options)
            ],
        },
        "cards": [card.__dict__ for card in services.cards(answer.codes[:3])],
        "elapsed_ms": round(answer.elapsed_ms, 2),
    }


@router.get(
    "/guide/answers",
    auth=None,
    response=GuideAnswerOut,
    summary="Ask the guide assistant (智能导办) a question in everyday words",
)
def guide_ask(
    request,
    q: str = Query(..., max_length=services.QUESTION_MAX),
    option: int | None = Query(None, ge=0, le=9, description="the chosen option of a clarification"),
):
    question = services.refine(q, option) if option is not None else q
    return answer_out(services.ask(question))


class ClickIn(Schema):
    question: str
    code: str
    position: int = 1
    action: str = Field("guide", description="guide (read the guide) or apply")


class ClickOut(Schema):
    recorded: bool


@router.post("/guide/clicks", response={201: ClickOut}, summary="Record which answer was chosen (anonymised)")
def guide_record_click(request, payload: ClickIn):
    services.record_click(request.auth, **payload.dict())
    return Status(201, {"recorded": True})


class HandOffIn(Schema):
    question: str
    phone: str = ""
    address: str = ""


class HandOffOut(Schema):
    order_number: str
    message: dict[str, str]


@router.post(
    "/guide/handoffs", response={201: HandOffOut}, summary="Hand a question to a person (a 12345 咨询 order)"
)
def guide_hand_off(request, payload: HandOffIn):
    from django.utils.translation import gettext_lazy as _

    order = services.hand_off(request.auth, **payload.dict())
    return Status(
        201,
        {
            "order_number": order.number,
            "message": bilingual(_("Your question was passed to the 12345 service centre.")),
        },
    )
