"""Background jobs of the hotline, run by the Huey consumer."""

from huey.contrib.djhuey import db_task

from . import city_events


@db_task(name="hotline.post_event_callback", retries=5, retry_delay=60)
def post_event_callback(event_pk: int) -> str:
    """The closing status of a city event's order, POSTed to the posting system's callback URL;
    retried five times a minute apart when the system does not take it."""
    return city_events.deliver_callback(event_pk)
