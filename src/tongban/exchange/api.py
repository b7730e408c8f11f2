"""Data-sharing endpoints (数据共享交换): the resource catalogue, grants, queries and call statistics."""

from ninja import Router

router = Router(tags=["exchange"])
