"""The offline baseline: deterministic, classical, no network."""

from __future__ import annotations

from datetime import datetime, timezone

from nodes.ai import offline
from nodes.ai.sanitize import clean_html

ARTICLE = ("Maily Flow sends email campaigns. Campaigns reach customers at the right time. "
           "The weather was nice yesterday. Good campaigns raise revenue for customers.")


def test_summarize_keeps_the_most_representative_sentences_in_order():
    out = offline.summarize(ARTICLE, max_sentences=2)
    assert "weather" not in out and out == offline.summarize(ARTICLE, max_sentences=2)
    assert len(offline.sentences(out)) == 2
    assert len(offline.summarize(ARTICLE, None, max_words=5).split()) == 5


def test_classify_by_keywords_with_default():
    rules = {"billing": ["invoice", "refund"], "support": ["error", "crash"]}
    assert offline.classify("The app shows an error and a crash", rules, "billing")[0] == "support"
    assert offline.classify("nothing relevant", rules, "support")[0] == "support"


def test_extract_entities_by_pattern():
    text = ("Write to jane.doe@shop.io or call (555) 123-4567 before March 3, 2026; budget €2,500. "
            "Dr. Jane Doe will visit https://shop.io/pricing.")
    found = offline.extract(text, offline.ENTITY_TYPES)
    assert found["email"] == ["jane.doe@shop.io"] and found["url"] == ["https://shop.io/pricing"]
    assert found["date"] == ["March 3, 2026"] and found["money"] == ["€2,500"]
    assert "(555) 123-4567" in found["phone"][0] and "Dr. Jane Doe" in found["name"]


def test_personalize_fills_placeholders_and_greets():
    assert offline.personalize("Deals for {company}.", {"name": "Bo Li", "company": "Acme"}) == "Hi Bo,\n\nDeals for Acme."
    assert offline.personalize("Hello [first_name]!", {"first_name": "Ann"}) == "Hello Ann!"


def test_best_send_time_uses_the_recipient_time_zone():
    opens = ["2026-03-02T13:00:00Z", "2026-03-03T13:20:00Z", "2026-03-04T02:00:00Z"]
    now = datetime(2026, 3, 10, 0, 0, tzinfo=timezone.utc)
    out = offline.best_send_time(opens, "America/New_York", now)
    # opened at 8:00 EST; the next 8:00 local falls after the DST change (EDT, UTC-4)
    assert out["local_hour"] == 8 and out["send_at"] == "2026-03-10T12:00:00Z" and out["opens_used"] == 3
    assert offline.best_send_time([], "Nowhere/Bogus", now)["timezone"] == "UTC"


def test_sanitizer_strips_scripts_handlers_and_unsafe_links():
    dirty = '<b onmouseover="x">ok</b><script>alert(1)</script><img src=x onerror=y><a href="JavaScript:z">l</a>'
    assert clean_html(dirty) == "<b>ok</b><a>l</a>"
