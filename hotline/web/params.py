"""Parameter types shared by the API routers: whole numbers bounded to what the database holds.

A row id or an offset past what the database takes is a server error there (SQLite raises
OverflowError past 64 bits; PostgreSQL's INTEGER holds 32), so it is refused at the edge with
422 instead, as any other value of the wrong shape.
"""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge, Le
from fastapi import Query

__all__ = ["MAX_INTEGER", "PageOffset", "RowId"]

#: The largest value of an INTEGER column on every database the controller runs on.
MAX_INTEGER = 2**31 - 1

#: The id of a row (a menu version, an assignment): in a path, a query or a body.
RowId = Annotated[int, Ge(1), Le(MAX_INTEGER)]

#: How many rows a page skips (`?offset=`).
PageOffset = Annotated[int, Query(ge=0, le=MAX_INTEGER)]
