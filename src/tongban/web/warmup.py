"""Warm a freshly started server process so the first visitor does not pay for it: the catalogue's
search index (jieba's dictionary and the BM25 matrix took 3.5 s on the first search) and the
templates of the pages most people open first (5.4 s for the first page)."""

import logging
import threading
import time

log = logging.getLogger(__name__)

TEMPLATES = (
    "web/landing.html",
    "web/home_citizen.html",
    "web/home_staff.html",
    "accounts/login.html",
    "catalog/portal.html",
    "guide/assistant.html",
)


def warm() -> float:
    """Build what the first requests need; returns the seconds it took. Never raises: a server
    that cannot warm up still serves, only the first requests are slower."""
    from django.template import TemplateDoesNotExist
    from django.template.loader import get_template

    started = time.perf_counter()
    try:
        from tongban.catalog import search

        search.search("营业执照", limit=1)  # builds the index (and loads the segmenter) once
    except Exception:  # an empty or unmigrated database: nothing to warm
        log.warning("search index not warmed", exc_info=True)
    for name in TEMPLATES:
        try:
            get_template(name)
        except TemplateDoesNotExist:
            log.warning("template %s not found to warm", name)
    return time.perf_counter() - started


def warm_in_background() -> threading.Thread:
    thread = threading.Thread(target=warm, name="tongban-warmup", daemon=True)
    thread.start()
    return thread
