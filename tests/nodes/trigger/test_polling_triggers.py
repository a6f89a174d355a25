"""trigger.rss and trigger.imap: the payload the poller built goes out as is; their configs
refuse what a poller could not use."""

import pytest
from pydantic import ValidationError

from nodes.trigger import imap, rss


@pytest.mark.parametrize("module", [rss, imap], ids=["rss", "imap"])
async def test_the_payload_goes_out_as_the_output(make_ctx, module):
    """The item or message the poller passed is the node's output; no payload gives an empty object."""
    config = module.Config(url="https://example.org/feed") if module is rss else module.Config(credential="c")
    assert await module.execute(make_ctx(), config, {"payload": {"title": "x"}}) == {"output": {"title": "x"}}
    assert await module.execute(make_ctx(), config, {}) == {"output": {}}
    assert module.SPEC.trigger and module.SPEC.inputs == ()


def test_rss_config_defaults_and_bounds():
    """interval_s defaults to 300 and is at least 30; the URL must be http or https."""
    config = rss.Config(url="http://example.org/feed.xml")
    assert (config.interval_s, config.fire_on_existing) == (300, False)
    with pytest.raises(ValidationError, match="interval_s"):
        rss.Config(url="http://example.org/", interval_s=29)
    with pytest.raises(ValidationError, match="url"):
        rss.Config(url="ftp://example.org/feed.xml")


def test_imap_config_takes_an_imap_credential_and_defaults_to_inbox():
    """The credential field offers imap credentials; mailbox defaults to INBOX and poll_s to 60."""
    schema = imap.Config.model_json_schema()
    assert schema["properties"]["credential"]["x-credential"] == ["imap"]
    config = imap.Config(credential="c")
    assert (config.mailbox, config.poll_s) == ("INBOX", 60)
    with pytest.raises(ValidationError, match="poll_s"):
        imap.Config(credential="c", poll_s=5)
