"""Background jobs of the licence library, run by the Huey consumer."""

from huey.contrib.djhuey import db_task

from . import services


@db_task(name="licences.issue_from_case", retries=3, retry_delay=30)
def issue_from_case(case_number: str, licence_type: str):
    """Sign and store the licence a decided case produces; retried if the database hiccups."""
    licence = services.issue_from_case(case_number, licence_type)
    return licence.code if licence else ""
