"""Every main page, as each role meets it, scanned the way issue 12 asks: axe-core finds no serious or
critical accessibility violation; care mode (关怀模式) text keeps 7:1 contrast; no registered activity
code and no untranslated interface string is on screen, in Chinese or in English; nothing sticks out
of the window or of its box. Each page is also screenshotted at 1440×900 and 390×844 in zh-Hans,
English and care mode (test-results/screens/), so a person can look at what the machine passed.

The pages are found as users find them: the links of the role's left navigation, plus the detail
pages a user opens from them (a case, a work item, a licence)."""

import functools
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.e2e.conftest import ARTIFACTS, staff_login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENS = ARTIFACTS / "screens"
SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
# The three ways a page is read: Chinese, English, and Chinese in care mode (large text, high contrast).
MODES = {
    "zh": {"tongban_language": "zh-hans"},
    "en": {"tongban_language": "en"},
    "care": {"tongban_language": "zh-hans", "tongban_care": "1"},
}

# Visible text nodes of the page, outside the language switcher (each language names itself).
VISIBLE_TEXT_JS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.trim();
    const parent = node.parentElement;
    const skipped = 'script,style,noscript,template,.lang-switch,[hidden],[translate=no]';
    if (!text || !parent || parent.closest(skipped)) continue;
    // A process diagram shows the definition as it was drawn (its names are content).
    if (parent.closest('svg')) continue;
    if (!parent.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
    // Content people entered in Chinese (names of windows, departments) is marked as such.
    const lang = parent.closest('[lang]');
    if (lang && lang !== document.documentElement && lang.lang.startsWith('zh')) continue;
    out.push(text);
  }
  for (const el of document.querySelectorAll('[placeholder],[aria-label],[title]')) {
    if (el.closest('.lang-switch')) continue;
    for (const name of ['placeholder', 'aria-label', 'title']) {
      const v = el.getAttribute(name);
      if (v && v.trim()) out.push(v.trim());
    }
  }
  return out;
}"""

# Elements that reach past the window's right edge without a scrolling box around them, and boxes
# (buttons, badges, table cells, cards) whose content spills out of them.
OVERFLOW_JS = """() => {
  const found = [];
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > width + 1) {
    found.push(`page scrolls sideways: ${document.documentElement.scrollWidth} > ${width}`);
  }
  const scrolls = (el) => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (['auto', 'scroll', 'hidden', 'clip'].includes(s.overflowX)) return true;
    }
    return false;
  };
  const describe = (el) => {
    const id = el.id ? '#' + el.id : '';
    const cls = el.classList.length ? '.' + [...el.classList].join('.') : '';
    return `${el.tagName.toLowerCase()}${id}${cls} «${(el.innerText || '').trim().slice(0, 40)}»`;
  };
  for (const el of document.body.querySelectorAll('*')) {
    if (!el.checkVisibility()) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.right > width + 1 && !scrolls(el)) found.push('past the right edge: ' + describe(el));
  }
  const boxes = 'button, .button, .badge, .tag, .chip, .stat, .card, th, td, .sidenav a, .breadcrumbs a';
  for (const el of document.body.querySelectorAll(boxes)) {
    if (!el.checkVisibility()) continue;
    const s = getComputedStyle(el);
    if (s.overflowX !== 'visible' || scrolls(el)) continue;
    if (el.scrollWidth > el.clientWidth + 2 && el.clientWidth > 0) {
      found.push(`content wider than its box (${el.scrollWidth} > ${el.clientWidth}): ` + describe(el));
    }
  }
  return [...new Set(found)].slice(0, 20);
}"""


@functools.cache
def _catalogue() -> tuple[dict[str, str], dict[str, str]]:
    """English source → Chinese, and Chinese → English, for every translated interface string worth
    spotting on a page (a word or more of letters; not codes, units or names kept as they are)."""
    with open(ROOT / "src/tongban/locale/zh_Hans/LC_MESSAGES/django.mo", "rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)._catalog
    english, chinese = {}, {}
    for key, value in catalog.items():
        if not isinstance(key, str) or not key or not isinstance(value, str):
            continue  # plural forms and the header
        source, target = key.split("\x04")[-1].strip(), value.strip()
        if source == target or "%(" in source or "{" in source:
            continue
        if re.search(r"[A-Za-z]{3,}", source) and not re.search(r"[\u4e00-\u9fff]", source):
            english[source] = target
        if re.search(r"[\u4e00-\u9fff]", target) and len(target) >= 2:
            chinese[target] = source
    return english, chinese


def _activity_codes() -> set[str]:
    from tongban.core import events

    return {a.code for a in events.registry.activities() if not a.is_family and "." in a.code}


def _scan(page, name: str, url: str, problems: list, run_axe: bool) -> None:
    english, chinese = _catalogue()
    codes = _activity_codes()
    for mode, cookies in MODES.items():
        page.context.clear_cookies(name="tongban_care")
        page.context.add_cookies([{"name": k, "value": v, "url": page.base_url} for k, v in cookies.items()])
        for size, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            response = page.goto(page.base_url + url)
            where = f"{name} [{mode} {size}] {url}"
            if response is None or response.status >= 400:
                problems.append(f"{where}: HTTP {response.status if response else '—'}")
                break
            page.screenshot(path=str(SCREENS / f"{name}-{mode}-{size}.png"), full_page=True)
            texts = page.evaluate(VISIBLE_TEXT_JS)
            for text in texts:
                for code in codes:
                    if re.search(rf"(?<![\w.]){re.escape(code)}(?![\w.])", text):
                        problems.append(f"{where}: raw activity code {code!r} in «{text[:60]}»")
                if mode == "en" and text in chinese:
                    problems.append(f"{where}: Chinese on an English page «{text}» ({chinese[text]!r})")
                if mode != "en" and text in english:
                    problems.append(f"{where}: untranslated «{text}»")
            problems.extend(f"{where}: {found}" for found in page.evaluate(OVERFLOW_JS))
            if run_axe and size == "desktop" and mode in ("zh", "en"):
                _axe(
                    page,
                    where,
                    problems,
                    {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}},
                )
            if run_axe and mode == "care" and size == "phone":
                _axe(
                    page,
                    where,
                    problems,
                    {"runOnly": {"type": "rule", "values": ["color-contrast-enhanced"]}},
                    impacts=None,
                )


def _axe(page, where: str, problems: list, options: dict, impacts=("serious", "critical")) -> None:
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("(options) => axe.run(document, options)", options)
    for violation in result["violations"]:
        if impacts and violation["impact"] not in impacts:
            continue
        for node in violation["nodes"][:6]:
            checks = node.get("any") or node.get("all") or [{}]
            detail = (checks[0].get("message") or "").split("\n")[0][:140]
            problems.append(
                f"{where}: axe {violation['id']} ({violation['impact']}) at {node['target'][0]}: {detail}"
            )


def _navigation_links(page) -> list[str]:
    hrefs = page.eval_on_selector_all("#sidenav a[href]", "els => els.map(e => e.getAttribute('href'))")
    return [h for h in hrefs if h.startswith("/") and not h.startswith("/admin")]


def _first_link(page, url: str, pattern: str) -> str | None:
    page.goto(page.base_url + url)
    hrefs = page.eval_on_selector_all("main a[href]", "els => els.map(e => e.getAttribute('href'))")
    return next((h for h in hrefs if re.search(pattern, h)), None)


@pytest.fixture
def scanner(browser, live_server, seeded):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("pages render the same on every database: scanned once, in the SQLite pass")
    if not AXE.exists():
        pytest.fail("axe-core is missing: `make assets` installs it from package-lock.json (npm ci)")
    from tongban.cases import demo as case_demo
    from tongban.catalog.demo import loader

    loader.load_detail()
    case_demo.load_sample_cases()
    SCREENS.mkdir(parents=True, exist_ok=True)
    # axe is injected with evaluate; the site's CSP (no inline or eval'd script) stays on for users.
    context = browser.new_context(locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.base_url = live_server.url
    yield page
    context.close()


def _report(problems: list) -> str:
    return f"{len(problems)} problem(s):\n" + "\n".join(problems)


def _pages_of(page, role: str, detail_patterns: dict[str, tuple[str, str]]) -> list[tuple[str, str]]:
    page.goto(page.base_url + "/")
    pages = [
        (f"{role}-{i:02d}", href) for i, href in enumerate(dict.fromkeys(["/", *_navigation_links(page)]))
    ]
    for name, (start, pattern) in detail_patterns.items():
        href = _first_link(page, start, pattern)
        assert href, f"{role}: no link matching {pattern} on {start}"
        pages.append((f"{role}-{name}", href))
    return pages


def test_public_pages(scanner):
    problems: list[str] = []
    pages = [("public-landing", "/"), ("public-services", "/services/"), ("public-login", "/accounts/login")]
    item = _first_link(scanner, "/services/", r"^/services/[^?]+/$")
    if item:
        pages.append(("public-item-guide", item))
    pages += [
        ("public-guide", "/guide/"),
        ("public-licence-verify", "/verify/"),
        ("public-progress", "/progress/"),
    ]
    for name, url in pages:
        _scan(scanner, name, url, problems, run_axe=True)
    assert not problems, _report(problems)


def test_citizen_pages(scanner):
    problems: list[str] = []
    scanner.goto(scanner.base_url + "/accounts/login")
    scanner.fill("#id_username", "zhangsan")
    scanner.fill("#id_password", settings.TONGBAN_DEMO_PASSWORD)
    scanner.click("[data-testid=login-submit]")
    scanner.wait_for_url(scanner.base_url + "/")
    for name, url in _pages_of(scanner, "citizen", {"case": ("/my/cases/", r"^/my/cases/[^/?]+/$")}):
        _scan(scanner, name, url, problems, run_axe=True)
    assert not problems, _report(problems)


@pytest.mark.parametrize(
    "username, details",
    [
        ("clerk", {}),
        ("reviewer", {"work-item": ("/work/", r"^/work/\d+")}),
        ("supervisor", {}),
        ("data_officer", {}),
        ("admin", {}),
        ("operator", {}),
    ],
)
def test_staff_pages(scanner, username, details):
    problems: list[str] = []
    staff_login(scanner, username)
    for name, url in _pages_of(scanner, username, details):
        _scan(scanner, name, url, problems, run_axe=True)
    assert not problems, _report(problems)
