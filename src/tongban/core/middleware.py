import time

from . import context


class RequestIdMiddleware:
    """Gives every request an id that logs, audit entries and error bodies carry."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        rid = context.new_request_id(request.headers.get("X-Request-ID"))
        request.request_id = rid
        tokens = context.set_request(rid, request.META.get("REMOTE_ADDR", ""))
        try:
            response = self.get_response(request)
        finally:
            context.reset_request(tokens)
        response["X-Request-ID"] = rid
        return response


class SecurityHeadersMiddleware:
    """Headers Django's SecurityMiddleware does not set."""

    PERMISSIONS_POLICY = "camera=(self), microphone=(), geolocation=(), payment=(), usb=()"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", self.PERMISSIONS_POLICY)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if request.user.is_authenticated if hasattr(request, "user") else False:
            # Pages with personal data must not linger in shared caches or the back button.
            response.setdefault("Cache-Control", "no-store")
        return response


class LanguageMiddleware:
    """zh-Hans unless the visitor chose otherwise with the language switch.

    Django's LocaleMiddleware would follow the browser's Accept-Language; a Chinese government
    service is Chinese first, whatever language a clerk's browser happens to be set to.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings
        from django.utils import translation

        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        try:
            language = (
                translation.get_supported_language_variant(chosen) if chosen else settings.LANGUAGE_CODE
            )
        except LookupError:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        response.setdefault("Vary", "Cookie")
        translation.deactivate()
        return response


class SessionIdleMiddleware:
    """Idle timeout without a database write on every request.

    Saving the session on each request (SESSION_SAVE_EVERY_REQUEST) would make every page view a
    write transaction — on SQLite, one writer at a time for the whole site. Instead the session is
    re-saved (and its expiry pushed out) when it was last touched more than TOUCH_SECONDS ago, so
    the idle limit holds to within that minute.
    """

    TOUCH_SECONDS = 60
    KEY = "_touched"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty() and getattr(session, "session_key", None):
            now = int(time.time())
            if now - int(session.get(self.KEY, 0)) >= self.TOUCH_SECONDS:
                # SessionMiddleware (outside this one) saves a modified session and renews its cookie.
                session[self.KEY] = now
        return response
