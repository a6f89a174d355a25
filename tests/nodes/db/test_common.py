"""nodes/db/common.py: JSON-safe row values, the output shape, the time budget and the allow-list source."""

from __future__ import annotations

import datetime
import decimal
import time
import uuid

from nodes.db import postgres
from nodes.db.common import Deadline, allowed_hosts, jsonable, rows_output
from nodes.net import SafeHttpClient


def test_column_values_become_json_without_losing_precision():
    """Decimals stay exact as text, times are ISO 8601, intervals seconds, bytes base64, UUIDs text."""
    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    row = {"d": decimal.Decimal("12345678901234567890.01"), "t": datetime.datetime(2030, 1, 2, 3, 4, 5),
           "day": datetime.date(2030, 1, 2), "span": datetime.timedelta(minutes=2), "b": b"\x00\xff",
           "u": u, "list": [decimal.Decimal("1.5"), None], "nested": {"k": {1, 2} - {1}}}
    assert jsonable(row) == {"d": "12345678901234567890.01", "t": "2030-01-02T03:04:05", "day": "2030-01-02",
                             "span": 120.0, "b": "AP8=", "u": str(u), "list": ["1.5", None], "nested": {"k": [2]}}


def test_rows_output_truncates_and_adds_rows_affected_only_when_writing():
    """max_rows cuts the rows and sets truncated; rows_affected appears only with read_only off."""
    rows = [{"n": i} for i in range(4)]
    assert rows_output(rows, 3, None, True) == {"output": {"rows": rows[:3], "row_count": 3, "truncated": True}}
    assert rows_output(rows, 4, 4, False)["output"] == {"rows": rows, "row_count": 4, "truncated": False,
                                                        "rows_affected": 4}


def test_the_statement_limit_leaves_a_margin_before_the_attempt_limit():
    """The server's limit is below the node's timeout_s by a tenth (at most a second) and shrinks with time."""
    config = postgres.Config(credential="c", query="SELECT 1", timeout_s=5)
    deadline = Deadline.of(config, postgres.SPEC)
    assert 4000 < deadline.statement_ms() <= 4500
    assert Deadline.of(postgres.Config(credential="c", query="x"), postgres.SPEC).limit_s == 30
    assert Deadline(5, time.monotonic() - 10).statement_ms() == 1


def test_the_allow_list_comes_from_the_runs_http_client(make_ctx, monkeypatch):
    """A context with an HTTP client uses its allow-list; one without reads MAILY_HTTP_ALLOWED_HOSTS."""
    assert allowed_hosts(make_ctx(http=SafeHttpClient(allowed_hosts=frozenset({"db.internal"})))) == {"db.internal"}
    monkeypatch.setenv("MAILY_HTTP_ALLOWED_HOSTS", "10.0.0.0/8, Cache.Internal")
    assert allowed_hosts(make_ctx()) == {"10.0.0.0/8", "cache.internal"}
