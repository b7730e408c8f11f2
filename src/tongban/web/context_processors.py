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
        "site_code": settings.TONGBAN_SITE_CODE,
        "site_icp": settings.TONGBAN_SITE_ICP,
        "site_organiser": settings.TONGBAN_SITE_ORGANISER,
        "hotline_number": settings.TONGBAN_HOTLINE_NUMBER,
        "available_languages": settings.LANGUAGES,
    }
