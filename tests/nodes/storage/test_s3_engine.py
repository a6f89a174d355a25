"""storage.s3 run by the engine: a SlowDown is retried and the run succeeds; a missing key is not
retried; an expression in the config reaches the stored body."""

from __future__ import annotations

from tests.nodes.engine_run import run_node


async def test_a_slowdown_is_retried_and_the_run_succeeds(s3_server, proxy, bucket):
    """The proxy answers 503 SlowDown once; the engine retries and the second request reaches moto."""
    proxy.failures.append((503, "SlowDown"))
    s3_server.boto().put_object(Bucket=bucket, Key="k", Body=b"stored")
    outcome, events = await run_node("storage.s3", {"credential": "s3", "bucket": bucket, "operation": "get",
                                                    "key": "k"}, s3_server.credential(url=proxy.url))
    assert outcome.status == "succeeded", outcome.error
    assert outcome.output["call"]["body"] == "stored"
    assert events.kinds("call") == ["node.started", "node.retrying", "node.succeeded"] and proxy.requests == 2


async def test_a_missing_key_fails_the_run_without_a_retry(s3_server, proxy, bucket):
    """NoSuchKey fails the run at once, pointing at /key, after a single request."""
    outcome, events = await run_node("storage.s3", {"credential": "s3", "bucket": bucket, "operation": "get",
                                                    "key": "nothing-here"}, s3_server.credential(url=proxy.url))
    assert outcome.status == "failed" and outcome.error["kind"] == "config" and outcome.error["pointer"] == "/key"
    assert "node.retrying" not in events.kinds("call") and proxy.requests == 1


async def test_the_body_expression_is_rendered_before_the_put(s3_server, bucket):
    """A put whose body and key are expressions stores the rendered value under the rendered key."""
    config = {"credential": "s3", "bucket": bucket, "operation": "put", "key": "{{ run.id }}.txt",
              "body": "run {{ run.id }}"}
    outcome, _ = await run_node("storage.s3", config, s3_server.credential())
    assert outcome.status == "succeeded", outcome.error
    assert s3_server.boto().get_object(Bucket=bucket, Key="r1.txt")["Body"].read() == b"run r1"
