"""City events (城市事件): a sensor system posts CloudEvents 1.0 (structured JSON mode) with its
bearer token; the centre's rules (FEEL) turn them into work orders; the system polls the order's
status down to its closing. Attacked with bad JSON, huge bodies, replays and another system's
events."""

import json

import pytest
from django.test import Client

from tongban.core.authz import OPERATOR
from tongban.core.errors import InvalidInput, NotPermitted
from tongban.hotline import city_events, services
from tongban.hotline.models import Channel, CityEvent, EventOutcome, OrderStatus, Urgency, WorkOrder

from .conftest import category

pytestmark = pytest.mark.django_db

URL = "/api/v1/hotline/city-events"
WATER = "cn.gov.gaxq.drainage.water_level"


@pytest.fixture
def drainage(db, operator):
    category("城乡建设", "zjj")
    category("城乡建设/城市建设和市政管理/排水", "zjj")
    category("劳动和社会保障", "rsj")
    return city_events.define_rule(
        operator,
        name="积水超警戒",
        event_type=WATER,
        condition="data.level_m > data.threshold_m",
        category="城乡建设/城市建设和市政管理/排水",
        urgency=Urgency.CRITICAL,
        merge_hours=12,
    )


@pytest.fixture
def sensors(db):
    system, token = city_events.register_system(
        OPERATOR, name="城市排水监测平台", source_prefix="urn:gaxq:drainage/"
    )
    return system, token


@pytest.fixture
def cameras(db):
    return city_events.register_system(OPERATOR, name="视频分析平台", source_prefix="urn:gaxq:video/")


def reading(event_id="e-1", level=0.62, subject="WL-0042", **more):
    envelope = {
        "specversion": "1.0",
        "id": event_id,
        "source": "urn:gaxq:drainage/station/17",
        "type": WATER,
        "subject": subject,
        "time": "2026-12-07T08:15:00+08:00",
        "datacontenttype": "application/json",
        "lat": 30.4741,
        "lon": 106.6352,
        "address": "广安区建设路与滨河路交叉口下穿隧道",
        "data": {"level_m": level, "threshold_m": 0.3},
    }
    envelope.update(more)
    return envelope


def post(token, envelope, *, content_type="application/cloudevents+json", raw=None):
    body = raw if raw is not None else json.dumps(envelope, ensure_ascii=False)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return Client().generic("POST", URL, body, content_type=content_type, **headers)


def get(token, url, **params):
    return Client().get(url, params, HTTP_AUTHORIZATION=f"Bearer {token}")


def fields(response) -> dict:
    return response.json()["error"].get("fields", {})


def test_a_sensor_event_opens_a_dispatched_order_and_the_system_sees_it_close(
    drainage, sensors, operator, handler_zj
):
    _system, token = sensors
    response = post(token, reading())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["outcome"] == "created" and body["rule"] == "积水超警戒" and body["duplicate"] is False
    order = body["order"]
    assert order["status"] == "dispatched" and order["open"] is True
    assert order["department"] == "zjj" and order["urgency"] == "critical"
    assert order["category"] == "城乡建设/城市建设和市政管理/排水"

    stored = WorkOrder.objects.get(number=order["number"])
    assert stored.channel == Channel.CITY_EVENT and stored.latitude is not None
    assert "WL-0042" in stored.text and "广安区建设路" in stored.address
    _order, history = services.history(operator, stored.number)
    dispatched = [e for e in history if e.activity == "work_order.dispatched"]
    assert dispatched[0].detail["rule"] == "event_rule:积水超警戒"  # the rule that decided is recorded
    assert any(e.activity == "work_order.city_event" for e in history)

    # the department handles it; the centre accepts the reply, which closes a sensor's order
    services.accept(handler_zj, stored.number)
    services.reply(handler_zj, stored.number, text="已抽排积水，隧道恢复通行。", outcome="solved")
    polled = get(token, URL, id="e-1").json()["order"]
    assert polled["status"] == "replied" and polled["open"] is True
    services.review(operator, stored.number, accept=True)

    polled = get(token, URL, id="e-1", source="urn:gaxq:drainage/station/17").json()
    assert polled["order"]["status"] == "closed" and polled["order"]["open"] is False
    assert polled["order"]["outcome"] == "solved" and polled["order"]["closed_at"]
    assert polled["order"]["reply_text"] == "已抽排积水，隧道恢复通行。"
    by_order = get(token, f"/api/v1/hotline/city-event-orders/{stored.number}").json()
    assert by_order["status"] == "closed" and by_order["events"] == 1


def test_a_reading_under_the_threshold_or_without_the_value_opens_nothing(drainage, sensors):
    _system, token = sensors
    low = post(token, reading("e-low", level=0.1))
    assert low.status_code == 201 and low.json()["outcome"] == "ignored" and low.json()["order"] is None
    # a reading that lacks the value: FEEL null, which is not true, so the rule does not hold
    blank = post(token, reading("e-blank", data={"threshold_m": 0.3}))
    assert blank.json()["outcome"] == "ignored"
    other_type = post(token, reading("e-type", type="cn.gov.gaxq.drainage.heartbeat"))
    assert other_type.json()["outcome"] == "ignored"
    assert WorkOrder.objects.count() == 0
    assert CityEvent.objects.filter(outcome=EventOutcome.IGNORED).count() == 3


def test_a_replay_changes_nothing_and_a_repeat_at_the_same_place_joins_the_order(drainage, sensors):
    _system, token = sensors
    first = post(token, reading("e-1")).json()
    replay = post(token, reading("e-1", level=9.9))
    assert replay.status_code == 200
    assert replay.json()["duplicate"] is True and replay.json()["order"]["number"] == first["order"]["number"]
    assert CityEvent.objects.count() == 1 and WorkOrder.objects.count() == 1

    repeat = post(token, reading("e-2", level=0.71)).json()
    assert repeat["outcome"] == "merged" and repeat["order"]["number"] == first["order"]["number"]
    assert repeat["order"]["events"] == 2
    elsewhere = post(token, reading("e-3", subject="WL-0099", lat=30.52, lon=106.70)).json()
    assert elsewhere["outcome"] == "created" and elsewhere["order"]["number"] != first["order"]["number"]
    assert WorkOrder.objects.count() == 2


def test_the_envelope_is_checked_against_cloudevents_1_0(drainage, sensors):
    _system, token = sensors
    cases = [
        ({k: v for k, v in reading().items() if k != "id"}, "id"),
        ({k: v for k, v in reading().items() if k != "source"}, "source"),
        ({k: v for k, v in reading().items() if k != "type"}, "type"),
        ({k: v for k, v in reading().items() if k != "specversion"}, "specversion"),
        (reading(specversion="0.3"), "specversion"),
        (reading(id=""), "id"),
        (reading(id=17), "id"),
        (reading(time="yesterday"), "time"),
        (reading(time="2026-12-07 08:15"), "time"),
        (reading(datacontenttype="application/xml"), "datacontenttype"),
        (reading(data_base64="AAAA"), "data_base64"),
        (reading(**{"Bad-Name": "x"}), "Bad-Name"),
        (reading(region={"nested": True}), "region"),
        (reading(lat=95), "lat"),
        (reading(lat="north"), "lat"),
        ({**reading(), "lat": None, "lon": None, "address": ""}, "lat"),
        (reading(subject="x" * 201), "subject"),
    ]
    for envelope, field in cases:
        response = post(token, envelope)
        assert response.status_code == 422, (field, response.content)
        assert field in fields(response), (field, fields(response))
        assert response.json()["error"]["message"]["en"]
    assert CityEvent.objects.count() == 0 and WorkOrder.objects.count() == 0


def test_bad_bodies_are_refused_without_a_500(drainage, sensors):
    _system, token = sensors
    for raw in ("{not json", "[]", '"text"', "", "\xff\xfe", "[" * 100_000 + "]" * 100_000):
        response = post(token, None, raw=raw)
        # (the test client sends an empty body without a content type: 415)
        assert response.status_code in (400, 413, 415), (raw[:20], response.status_code)
        assert response.json()["error"]["message"]["zh-Hans"]
    assert post(token, reading(), content_type="text/plain").status_code == 415
    assert post(token, [reading()], content_type="application/cloudevents-batch+json").status_code == 415
    huge = reading("e-huge", data={"level_m": 1, "threshold_m": 0.3, "blob": "x" * 70_000})
    response = post(token, huge)
    assert response.status_code == 413 and response.json()["error"]["code"] == "body_too_large"
    # plain application/json is taken too (the same structured envelope)
    assert post(token, reading("e-plain"), content_type="application/json").status_code == 201
    assert CityEvent.objects.count() == 1


def test_only_a_registered_system_posts_and_reads_only_its_own_events(drainage, sensors, cameras, actors):
    system, token = sensors
    _cam, cam_token = cameras
    assert post("", reading()).status_code == 401
    assert post("ce_not-a-token", reading()).status_code == 401
    assert post("tb_looks-like-a-user-token", reading()).status_code == 401

    created = post(token, reading("e-1")).json()
    number = created["order"]["number"]
    # the cameras may neither post under the drainage sources (nor replay their ids) …
    stolen = post(cam_token, reading("e-1"))
    assert stolen.status_code == 403
    assert post(cam_token, reading("e-9")).status_code == 403
    # … nor read their events or orders: as if they did not exist
    assert get(cam_token, URL, id="e-1").status_code == 404
    assert get(cam_token, URL, id="e-1", source="urn:gaxq:drainage/station/17").status_code == 404
    assert get(cam_token, f"/api/v1/hotline/city-event-orders/{number}").status_code == 404
    assert get(token, URL, id="nope").status_code == 404
    assert get(token, "/api/v1/hotline/city-event-orders/H000").status_code == 404
    # an order the system did not open is not its to read
    other = services.create_order(
        actors["operator"], channel="phone", text="路灯不亮", order_type="complaint", requester_name="王五"
    )
    assert get(token, f"/api/v1/hotline/city-event-orders/{other.number}").status_code == 404

    # a deactivated system is turned away
    system.active = False
    system.save()
    assert post(token, reading("e-5")).status_code == 401
    assert get(token, URL, id="e-1").status_code == 401


def test_a_source_prefix_may_not_overlap_another_systems(sensors, operator):
    with pytest.raises(InvalidInput) as exc:
        city_events.register_system(OPERATOR, name="排水二期", source_prefix="urn:gaxq:drainage/station/")
    assert "source_prefix" in exc.value.fields
    with pytest.raises(InvalidInput) as exc:
        city_events.register_system(OPERATOR, name="城市排水监测平台", source_prefix="urn:gaxq:other/")
    assert "name" in exc.value.fields


def test_rules_are_feel_and_only_the_centre_defines_them(drainage, operator, handler_zj):
    with pytest.raises(InvalidInput) as exc:
        city_events.define_rule(
            operator, name="坏规则", event_type=WATER, condition="data.level_m >", category="城乡建设"
        )
    assert "condition" in exc.value.fields
    with pytest.raises(InvalidInput) as exc:
        city_events.define_rule(operator, name="x", event_type=WATER, category="没有这个", priority=-1)
    assert {"category", "priority"} <= set(exc.value.fields)
    with pytest.raises(NotPermitted):
        city_events.define_rule(handler_zj, name="y", event_type=WATER, category="城乡建设")
    # the same name changes the rule
    changed = city_events.define_rule(
        operator,
        name="积水超警戒",
        event_type=WATER,
        condition="data.level_m >= 0.5",
        category="城乡建设/城市建设和市政管理/排水",
    )
    assert changed.pk == drainage.pk and changed.condition == "data.level_m >= 0.5"


def test_the_rules_api_is_for_the_centre(drainage):
    from .test_api_demo import logged_in

    centre, csrf = logged_in("operator")
    listed = centre.get("/api/v1/hotline/event-rules").json()
    assert [r["name"] for r in listed] == ["积水超警戒"]
    rule = {"name": "井盖位移", "event_type": "cn.gov.gaxq.manhole.tilt", "category": "城乡建设"}
    bad = centre.post(
        "/api/v1/hotline/event-rules", {**rule, "condition": "data.angle >> 1"}, "application/json", **csrf
    )
    assert bad.status_code == 422 and "condition" in bad.json()["error"]["fields"]
    good = centre.post(
        "/api/v1/hotline/event-rules", {**rule, "condition": "data.angle > 15"}, "application/json", **csrf
    )
    assert good.status_code == 200 and good.json()["department"] == ""
    handler, h_csrf = logged_in("handler_zj")
    assert handler.get("/api/v1/hotline/event-rules").status_code == 403
    refused = handler.post("/api/v1/hotline/event-rules", rule, "application/json", **h_csrf)
    assert refused.status_code == 403


def test_the_machine_found_rate_counts_the_categories_sensors_cover(drainage, sensors, operator):
    import datetime as dt

    from django.utils import timezone

    _system, token = sensors
    post(token, reading("e-1"))
    post(token, reading("e-2", subject="WL-0099", lat=30.52, lon=106.70))
    services.create_order(
        operator,
        channel="phone",
        text="建设路下穿隧道积水很深",
        order_type="help",
        requester_name="李四",
        category="城乡建设/城市建设和市政管理/排水",
    )
    services.create_order(
        operator,
        channel="phone",
        text="社保卡补办",
        order_type="consultation",
        requester_name="李四",
        category="劳动和社会保障",
    )
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    figure = city_events.machine_found(
        operator,
        start=dt.datetime.combine(today, dt.time.min, tzinfo=tz),
        end=dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
    )
    assert (figure.from_events, figure.covered) == (2, 3) and figure.rate == round(2 / 3, 4)
    assert figure.categories == ("城乡建设/城市建设和市政管理/排水",)


def test_a_closed_order_reopened_by_a_new_event_is_not_joined(drainage, sensors, operator, handler_zj):
    """A repeat joins only an open order: after closing, the next reading opens a new one."""
    _system, token = sensors
    first = post(token, reading("e-1")).json()["order"]["number"]
    services.accept(handler_zj, first)
    services.reply(handler_zj, first, text="已处理", outcome="solved")
    services.review(operator, first, accept=True)
    assert WorkOrder.objects.get(number=first).status == OrderStatus.CLOSED
    again = post(token, reading("e-2")).json()
    assert again["outcome"] == "created" and again["order"]["number"] != first


def test_the_rates_page_shows_the_machine_found_rate_and_the_answered_on_the_spot(
    drainage, sensors, operator
):
    from .test_api_demo import logged_in

    _system, token = sensors
    post(token, reading("e-1"))
    asked = services.create_order(
        operator,
        channel="phone",
        text="社保卡怎么补办",
        order_type="consultation",
        requester_name="李四",
        category="劳动和社会保障",
    )
    services.answer_on_spot(operator, asked.number, reply_text="携带身份证到社保大厅或在线补办。")
    page = logged_in("operator")[0].get("/hotline/rates").content.decode()
    assert 'data-figure="machine-found"' in page and "100%" in page and "(1/1)" in page
    assert 'data-figure="answered"' in page
    # the department's rates do not count the consultation the centre answered itself
    handler_page = logged_in("handler_zj")[0].get("/hotline/rates").content.decode()
    assert 'data-figure="answered"' not in handler_page


# --- closing the loop: the closing status POSTed to the system's callback URL -----------------------


@pytest.fixture
def endpoint(settings):
    """A system's callback endpoint on this machine: records what it is sent and answers with the
    statuses queued in `answers` (204 once they run out)."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received, answers = [], []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            received.append(
                (self.path, self.headers.get("Content-Type"), json.loads(self.rfile.read(length)))
            )
            status = answers.pop(0) if answers else 204
            self.send_response(status)
            if status in (301, 302, 307):
                self.send_header("Location", "http://169.254.169.254/latest/meta-data")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.TONGBAN_HOTLINE_CALLBACK_HOSTS = ["127.0.0.1"]
    yield f"http://127.0.0.1:{server.server_port}/hooks/12345", received, answers
    server.shutdown()
    server.server_close()


def handled(operator, handler_zj, number, django_capture_on_commit_callbacks):
    services.accept(handler_zj, number)
    services.reply(handler_zj, number, text="已抽排积水，隧道恢复通行。", outcome="solved")
    with django_capture_on_commit_callbacks(execute=True):
        services.review(operator, number, accept=True)


def test_the_closing_status_is_posted_to_the_callback_url(
    drainage, sensors, operator, handler_zj, endpoint, django_capture_on_commit_callbacks
):
    from tongban.core.models import AuditEntry

    url, received, _answers = endpoint
    _system, token = sensors
    response = post(token, reading(callbackurl=url))
    assert response.status_code == 201, response.content
    number = response.json()["order"]["number"]
    services.accept(handler_zj, number)
    assert received == []  # nothing before the order closes
    services.reply(handler_zj, number, text="已抽排积水，隧道恢复通行。", outcome="solved")
    with django_capture_on_commit_callbacks(execute=True):
        services.review(operator, number, accept=True)
    assert len(received) == 1
    path, content_type, body = received[0]
    assert path == "/hooks/12345" and content_type.startswith("application/json")
    assert body["id"] == "e-1" and body["source"] == "urn:gaxq:drainage/station/17"
    assert body["order"] == number and body["status"] == "closed" and body["outcome"] == "solved"
    assert body["reply_text"] == "已抽排积水，隧道恢复通行。" and body["closed_at"]
    entry = AuditEntry.objects.filter(action="hotline.city_event_callback").get()
    assert entry.outcome == "success" and entry.detail["status"] == 204


def test_a_callback_url_off_the_allow_list_is_refused(drainage, sensors, endpoint):
    _url, received, _answers = endpoint
    _system, token = sensors
    for bad in (
        "http://169.254.169.254/latest/meta-data",
        "http://127.0.0.1.evil.example/hook",
        "http://user:secret@127.0.0.1/hook",
        "file:///etc/passwd",
        "ftp://127.0.0.1/hook",
        42,
    ):
        response = post(token, reading(event_id=f"bad-{bad}", callbackurl=bad))
        assert response.status_code == 422, (bad, response.content)
        assert "callbackurl" in fields(response)
    assert not CityEvent.objects.exists() and received == []


def test_a_failed_delivery_is_retried_and_a_host_taken_off_the_list_gets_nothing(
    drainage, sensors, operator, handler_zj, endpoint, django_capture_on_commit_callbacks, settings
):
    from tongban.core.models import AuditEntry

    url, received, answers = endpoint
    _system, token = sensors
    number = post(token, reading(callbackurl=url)).json()["order"]["number"]
    answers += [503, 302]  # the endpoint is down, then redirects elsewhere (not followed)
    handled(operator, handler_zj, number, django_capture_on_commit_callbacks)
    event = CityEvent.objects.get()
    with pytest.raises(city_events.CallbackFailed):  # the second attempt, as the queue retries
        city_events.deliver_callback(event.pk)
    assert [r[0] for r in received] == ["/hooks/12345", "/hooks/12345"]  # the redirect was not followed
    assert city_events.deliver_callback(event.pk) == "sent"
    outcomes = list(
        AuditEntry.objects.filter(action="hotline.city_event_callback")
        .order_by("id")
        .values_list("outcome", flat=True)
    )
    assert outcomes == ["failed", "failed", "success"]
    settings.TONGBAN_HOTLINE_CALLBACK_HOSTS = ["sensors.example.gov.cn"]
    assert city_events.deliver_callback(event.pk) == "refused"
    assert len(received) == 3
