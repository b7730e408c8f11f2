"""我的: the citizen's home counts what waits for them and lists their latest cases (issue 12, defect 3:
the home showed neither pending 补正 nor links to cases and licences)."""

import re

from tongban.accounts.actors import Actor
from tongban.accounts.models import User
from tongban.cases import demo as case_demo
from tongban.cases import services as case_services
from tongban.catalog.demo import loader


def _counts(page: str) -> dict:
    return {
        name: int(n)
        for name, n in re.findall(
            r'data-testid="count-([a-z-]+)">.*?<span class="stat">(\d+)</span>', page, re.S
        )
    }


def test_the_home_counts_what_waits_and_links_the_latest_cases(db, citizen_client):
    loader.load_detail()
    assert case_demo.load_sample_cases() == 6
    overview = case_services.my_overview(Actor(User.objects.get(username="zhangsan")))
    # 张三's samples: one waiting at the window, one being reviewed, one waiting for 补正, one rated.
    assert (overview.to_supplement, overview.in_progress, overview.to_rate, overview.to_collect) == (
        1,
        2,
        0,
        0,
    )
    assert len(overview.recent) == 4
    page = citizen_client("zhangsan").get("/").content.decode()
    assert _counts(page) == {"supplement": 1, "in-progress": 2, "to-collect": 0, "to-rate": 0}
    for case in overview.recent:
        assert f'href="/my/cases/{case.number}/"' in page
    assert 'data-testid="tile-licences"' in page and 'href="/me/licences/"' in page


def test_a_citizen_sees_only_their_own_cases_counted(db, citizen_client):
    loader.load_detail()
    case_demo.load_sample_cases()
    lisi = case_services.my_overview(Actor(User.objects.get(username="lisi")))
    # 李四's two samples are being handled; 张三's are none of his business.
    assert (lisi.to_supplement, lisi.in_progress, len(lisi.recent)) == (0, 2, 2)
