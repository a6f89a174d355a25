"""Integer parameters that reach the database, bounded in one place.

PostgreSQL BIGINT holds at most 2^63 - 1; a larger Python int makes the driver
raise (OverflowError, asyncpg DataError) and the client would see a 500. Every query, path and body
integer that is bound into SQL uses one of these, so the bound is checked with the other parameter
rules and a bad value is an ordinary 400/404/422 naming the field.
"""

from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter
from pydantic import Field

MAX_DB_INT = 2**63 - 1

OFFSET = Parameter(default=0, ge=0, le=MAX_DB_INT, description="How many rows to skip")
AFTER_SEQ = Parameter(default=0, ge=0, le=MAX_DB_INT, description="Only events with a larger sequence number")
VersionNumber = Annotated[int, Parameter(ge=1, le=MAX_DB_INT, description="A published version number")]
# A body field that is stored or compared in SQL (pydantic models of request bodies).
VersionField = Annotated[int, Field(ge=1, le=MAX_DB_INT)]
