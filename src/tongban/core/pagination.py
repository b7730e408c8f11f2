"""Page-number paging for the API with a bounded page number.

Ninja's own class accepts any page: page 2**62 times 50 rows overflows the OFFSET on SQLite and
PostgreSQL alike (a 409 or a 500, issue 9 defect 6). No list here has a million pages, so a larger
page number is a field error like any other out-of-range value.
"""

from ninja import Field, Schema
from ninja.pagination import PageNumberPagination as NinjaPageNumberPagination

MAX_PAGE = 1_000_000


class PageNumberPagination(NinjaPageNumberPagination):
    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1, le=1000)
