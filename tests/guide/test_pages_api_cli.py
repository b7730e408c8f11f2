"""The assistant's page, API and CLI: thin over guide.services, with field-level errors, never a 500."""

import csv
import json

import pytest
from typer.testing import CliRunner

from tongban.cli.main import app
from tongban.guide.models import Click
from tongban.hotline.models import OrderType, WorkOrder

FOOD = "511A0005200004-511602000000-000-115113016823646795-1-00"


# --- page --------------------------------------------------------------------------------------


def test_the_page_answers_with_cards(client):
    response = client.get("/guide/", {"q": "开个小饭馆要办什么证"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="guide-card"' in body
    assert f'data-code="{FOOD}"' in body
    assert "申请材料" in body or "Materials" in body


def test_the_page_asks_back_and_follows_the_choice(client):
    body = client.get("/guide/", {"q": "办营业执照"}).content.decode()
    assert 'data-testid="guide-clarify"' in body
    chosen = client.get("/guide/", {"q": "办营业执照", "option": "1"}).content.decode()
    assert 'data-testid="guide-clarify"' not in chosen
    assert "公司设立登记" in chosen


def test_the_page_declines_and_offers_a_person(client, citizen_client):
    body = client.get("/guide/", {"q": "今天天气怎么样"}).content.decode()
    assert 'data-testid="guide-declined"' in body
    assert "/accounts/login" in body  # anonymous: log in to ask a person
    citizen = citizen_client("zhangsan")
    body = citizen.get("/guide/", {"q": "今天天气怎么样"}).content.decode()
    assert 'data-testid="guide-handoff"' in body


@pytest.mark.parametrize("params", [{"q": ""}, {"q": "问" * 301}, {"q": "办营业执照", "option": "9"}])
def test_bad_input_on_the_page_is_a_field_error_not_a_500(client, params):
    response = client.get("/guide/", params)
    assert response.status_code == 400
    assert 'data-testid="guide-errors"' in response.content.decode()


def test_choosing_an_answer_counts_the_click_and_opens_the_guide(client):
    response = client.post(
        "/guide/open", {"question": "开饭店 13800138000", "code": FOOD, "position": "1", "action": "guide"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/services/items/{FOOD}/"
    click = Click.objects.get()
    assert click.item_code == FOOD and "13800138000" not in click.terms
    response = client.post(
        "/guide/open", {"question": "开饭店", "code": FOOD, "position": "1", "action": "apply"}
    )
    assert response["Location"] == f"/services/items/{FOOD}/apply"


def test_a_bad_click_goes_back_with_a_message(client):
    response = client.post(
        "/guide/open", {"question": "开饭店", "code": "NO-SUCH", "action": "guide"}, follow=True
    )
    assert response.status_code == 200
    assert not Click.objects.exists()
    assert (
        "No published item has this code" in response.content.decode() or "没有" in response.content.decode()
    )


def test_the_citizen_hands_off_from_the_page(citizen_client):
    client = citizen_client("zhangsan")
    response = client.post("/guide/handoff", {"question": "老家宅基地怎么确权"})
    assert response.status_code == 302
    order = WorkOrder.objects.get(text__contains="宅基地")
    assert order.order_type == OrderType.CONSULTATION
    assert response["Location"] == f"/hotline/orders/{order.number}/"


# --- API ---------------------------------------------------------------------------------------


def test_the_api_answers_anyone(client):
    response = client.get("/api/v1/guide/answers", {"q": "孩子刚出生上户口怎么弄"})
    assert response.status_code == 200
    data = response.json()
    assert data["outcome"] == "answered"
    assert data["ranked_codes"] and len(data["cards"]) <= 3
    assert data["cards"][0]["department"]
    clarify = client.get("/api/v1/guide/answers", {"q": "办营业执照"}).json()
    assert clarify["outcome"] == "clarify"
    assert clarify["clarification"]["question"]["zh-Hans"].startswith("您是")
    declined = client.get("/api/v1/guide/answers", {"q": "今天天气怎么样"}).json()
    assert declined["outcome"] == "declined" and declined["ranked_codes"] == []


@pytest.mark.parametrize(
    "params,field", [({"q": "   "}, "question"), ({"q": "办营业执照", "option": 5}, "option")]
)
def test_api_bad_input_names_the_field_in_both_languages(client, params, field):
    response = client.get("/api/v1/guide/answers", params)
    assert response.status_code == 422
    problems = response.json()["error"]["fields"][field]
    assert set(problems[0]["message"]) == {"zh-Hans", "en"}


def test_api_clicks_need_a_caller_and_valid_fields(client, citizen_client):
    payload = {"question": "开饭店", "code": FOOD}
    assert client.post("/api/v1/guide/clicks", payload, content_type="application/json").status_code == 401
    citizen = citizen_client("zhangsan")
    ok = citizen.post("/api/v1/guide/clicks", payload, content_type="application/json")
    assert ok.status_code == 201
    bad = citizen.post(
        "/api/v1/guide/clicks", {**payload, "code": "NOPE", "position": 99}, content_type="application/json"
    )
    assert bad.status_code == 422
    assert set(bad.json()["error"]["fields"]) == {"code", "position"}


def test_api_handoff(client, citizen_client):
    assert (
        client.post(
            "/api/v1/guide/handoffs", {"question": "宅基地"}, content_type="application/json"
        ).status_code
        == 401
    )
    citizen = citizen_client("zhangsan")
    response = citizen.post(
        "/api/v1/guide/handoffs",
        json.dumps({"question": "老家宅基地怎么确权"}),
        content_type="application/json",
    )
    assert response.status_code == 201
    assert WorkOrder.objects.filter(number=response.json()["order_number"]).exists()


# --- CLI ---------------------------------------------------------------------------------------


@pytest.fixture
def cli():
    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


def test_cli_ask_prints_the_ranked_answers(cli, monkeypatch):
    from tongban.cli import guide

    monkeypatch.setattr(guide.console, "width", 60)  # a narrow terminal must not fold the codes
    result = cli("guide", "ask", "开个小饭馆要办什么证")
    assert result.exit_code == 0, result.output
    first = next(line for line in result.output.splitlines() if line.startswith("1. "))
    assert FOOD in result.output and len(first) > 60  # one unfolded line per answer
    assert "declined" in cli("guide", "ask", "今天天气怎么样").output
    empty = cli("guide", "ask", " ")
    assert empty.exit_code == 2


def test_cli_answer_writes_ranked_codes(cli, tmp_path):
    source = tmp_path / "q.csv"
    source.write_text("question\n开饭店\n今天天气怎么样\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = cli("guide", "answer", source, "--out", out)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["question"] for r in rows] == ["开饭店", "今天天气怎么样"]
    assert rows[0]["ranked_codes"].split("|")[0] == FOOD
    assert rows[1]["ranked_codes"] == ""


def test_cli_refuses_a_file_without_questions(cli, tmp_path):
    source = tmp_path / "q.csv"
    source.write_text("text\n开饭店\n", encoding="utf-8")
    result = cli("guide", "answer", source, "--out", tmp_path / "o.csv")
    assert result.exit_code == 2
    assert "question" in result.output
    assert cli("guide", "answer", tmp_path / "missing.csv", "--out", tmp_path / "o.csv").exit_code == 2


def test_cli_evaluate_prints_the_eval_line(cli, tmp_path):
    source = tmp_path / "q.csv"
    source.write_text(
        f"question,expected_codes,split\n开饭店,{FOOD},dev\n今天天气怎么样,,dev\n", encoding="utf-8"
    )
    result = cli("guide", "evaluate", source)
    assert result.exit_code == 0, result.output
    assert "EVAL guide hit1=1.000 hit3=1.000 declined_unanswerable=1.000 n=2" in result.output
