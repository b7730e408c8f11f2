from django.conf import settings

from tongban.accounts.actors import actor_for_request

from .navigation import navigation_for

CARE_COOKIE = "tongban_care"


def shell(request):
    """What every page's frame needs: the actor, navigation, care mode and languages."""
    actor = actor_for_request(request)
    return {
        "actor": actor,
        "navigation": navigation_for(actor, request.path) if actor.is_authenticated else [],
        "care_mode": request.COOKIES.get(CARE_COOKIE) == "1",
        "site_name": settings.TONGBAN_SITE_NAME,
        "available_languages": settings.LANGUAGES,
    }
