import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
application = get_wsgi_application()

# Each server process warms its search index and templates while it starts taking requests
# (TONGBAN_WARMUP=0 turns it off, e.g. for a process that only runs a command).
if os.environ.get("TONGBAN_WARMUP", "1") != "0":
    from tongban.web.warmup import warm_in_background

    warm_in_background()
