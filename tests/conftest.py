"""Shared fixtures. The demo city (tongban.accounts.seed) is the test organisation: it is loaded once
per database and every role has a user in it, so tests speak about real departments and people."""

import hashlib
import hmac
import os
import struct
import time

import pytest
from django.conf import settings

from tongban.accounts.actors import Actor
from tongban.accounts.models import User

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_configure(config):
    # argon2 is the production hasher (tests/accounts/test_login.py proves it); tests hash fast.
    settings.PASSWORD_HASHERS = FAST_HASHERS
    # The rate-limit counters live in files under var/, which the xdist workers share; every test
    # clears them (_fresh_caches), which would reset another worker's count mid-test. One folder
    # per worker.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    limits = settings.CACHES["ratelimit"]
    if limits["BACKEND"].endswith("FileBasedCache"):
        settings.CACHES["ratelimit"] = {**limits, "LOCATION": f"{limits['LOCATION']}-{worker}"}
    settings.HUEY  # noqa: B018  (configured by TONGBAN_QUEUE_URL=immediate:// from scripts/run-tests.sh)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from tongban.accounts.seed import seed_demo

    with django_db_blocker.unblock():
        seed_demo()


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Module caches of immutable rows are keyed by id; tests roll rows back and the ids come round again."""
    from django.core.cache import cache, caches

    from tongban.cases import services as cases
    from tongban.catalog import services as catalog
    from tongban.exchange import store as exchange_store
    from tongban.workflow import services as workflow

    exchange_store.clear_cache()
    catalog.clear_caches()
    workflow.clear_caches()
    cases.clear_caches()
    from tongban.hotline import services as hotline

    hotline.clear_caches()
    from tongban.accounts.actors import forget_authority

    cache.clear()
    caches["ratelimit"].clear()  # each test starts with no requests counted against the rate limits
    forget_authority()
    yield


@pytest.fixture
def seeded(transactional_db):
    """For transactional tests: the flush after each test removes the demo city, so load it again."""
    from tongban.accounts.seed import seed_demo

    seed_demo()


def actor(username: str) -> Actor:
    return Actor(User.objects.get(username=username))


@pytest.fixture
def actors(db):
    """Actor for every demo login, by username."""
    return {u.username: Actor(u) for u in User.objects.all()}


def totp_now(secret: bytes, at: float | None = None) -> str:
    """RFC 6238 code computed independently of django-otp, as a phone would."""
    counter = int((at or time.time()) // 30)
    digest = hmac.new(secret, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 15
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def totp_for(username: str) -> str:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user__username=username, confirmed=True)
    # django-otp refuses a code whose time step was already used (no replay), so a second login
    # in the same 30 s takes the next step, which the device's drift tolerance accepts.
    step = int(time.time() // 30)
    if device.last_t is not None and device.last_t >= step:
        step = device.last_t + 1
        while step > int(time.time() // 30) + device.tolerance:
            time.sleep(1)
    return totp_now(device.bin_key, at=step * 30 + 1)


@pytest.fixture
def staff_client(client):
    """Log a staff member in with password and TOTP, as the browser would."""

    def login(username: str):
        response = client.post(
            "/accounts/login", {"username": username, "password": settings.TONGBAN_DEMO_PASSWORD}
        )
        assert response.status_code == 302, response.content[:500]
        response = client.post("/accounts/mfa/verify", {"otp_token": totp_for(username)})
        assert response.status_code == 302, response.content[:500]
        return client

    return login


@pytest.fixture
def citizen_client(client):
    def login(username: str):
        response = client.post(
            "/accounts/login", {"username": username, "password": settings.TONGBAN_DEMO_PASSWORD}
        )
        assert response.status_code == 302
        return client

    return login


def shared_data_dir():
    path = os.environ.get("TONGBAN_DATA_DIR") or settings.DATA_DIR
    return path if os.path.isdir(path) else None
