"""The offline provider: deterministic classical methods, no network, no key, no download.

It is the baseline of every AI node (what runs on the free tier, when the budget is spent
or every provider is down) and it gives the same answer for the same input, always.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'-]*")
STOPWORDS = frozenset("""a an and are as at be been but by can could did do does for from had has have he her his
i if in into is it its just me more most my no not of on or our out she so some such than that the their them
then there these they this those to too up us was we were what when which while who will with would you your""".split())


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(" ".join(text.split())) if s.strip()]


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def summarize(text: str, max_sentences: int | None = 3, max_words: int | None = None) -> str:
    """Extractive: sentences scored by the frequency of their content words (normalised by
    length, a small bonus for the opening sentence), the best kept in their original order."""
    sents = sentences(text)
    if not sents:
        return ""
    freq = Counter(w for w in _words(text) if w not in STOPWORDS)
    top = max(freq.values(), default=1)

    def score(i: int, s: str) -> float:
        content = [w for w in _words(s) if w not in STOPWORDS]
        base = sum(freq[w] / top for w in content) / math.sqrt(len(content) or 1)
        return base + (0.3 if i == 0 else 0.0)

    n = max(1, max_sentences or len(sents))
    ranked = sorted(range(len(sents)), key=lambda i: (-score(i, sents[i]), i))[:n]
    summary = " ".join(sents[i] for i in sorted(ranked))
    return limit_words(summary, max_words) if max_words else summary


def limit_words(text: str, max_words: int) -> str:
    words = text.split()
    if len(words) <= max_words:
        return text
    return " ".join(words[:max_words]).rstrip(",;:") + "…"


def classify(text: str, categories: dict[str, list[str]], default: str) -> tuple[str, dict[str, float]]:
    """Keyword rules: each category scores its keywords' (and its own name's) occurrences;
    ties go to the earlier category; no hit at all gives `default`."""
    words = Counter(_words(text))
    lowered = " " + " ".join(_words(text)) + " "
    scores: dict[str, float] = {}
    for name, keywords in categories.items():
        s = 0.0
        for kw in [name, *keywords]:
            kw_l = " ".join(_words(kw))
            if not kw_l:
                continue
            s += words[kw_l] if " " not in kw_l else lowered.count(f" {kw_l} ") * 1.5
        scores[name] = s
    best = max(categories, key=lambda c: (scores[c], -list(categories).index(c)))
    return (best if scores[best] > 0 else default), scores


ENTITY_PATTERNS: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"),
    "url": re.compile(r"\bhttps?://[^\s<>\"')]+[^\s<>\"').,;:!?]"),
    "phone": re.compile(r"(?<![\w+(])\+?(?:\d{1,3}[ .-]?)?\(?\d{2,4}\)?[ .-]?\d{3,4}[ .-]?\d{3,4}\b"),
    "date": re.compile(r"\b(?:\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|"
                       r"Nov|Dec)[a-z]*\.? \d{1,2}(?:st|nd|rd|th)?,? \d{4}|\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|"
                       r"Sep|Oct|Nov|Dec)[a-z]* \d{4})\b"),
    "money": re.compile(r"(?:[$€£¥]\s?\d[\d,]*(?:\.\d+)?(?:\s?[kKmM]\b)?|\b\d[\d,]*(?:\.\d+)?\s?(?:USD|EUR|GBP|dollars|euros)\b)"),
    "name": re.compile(r"\b(?:(?:Mr|Mrs|Ms|Dr|Prof)\.? )?[A-Z][a-z]+(?: [A-Z]\.)?(?: [A-Z][a-z]+){1,2}\b"),
}
ENTITY_TYPES = tuple(ENTITY_PATTERNS)
# Capitalised pairs that are not people: month/day names and sentence-initial function words.
_NOT_NAMES = frozenset("""the this that these those monday tuesday wednesday thursday friday saturday sunday january
february march april may june july august september october november december dear hi hello thanks best kind""".split())


def extract(text: str, types: Iterable[str], limit: int = 50) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for t in types:
        values: list[str] = []
        for m in ENTITY_PATTERNS[t].finditer(text):
            v = m.group(0).strip()
            if t == "phone" and sum(c.isdigit() for c in v) < 7:
                continue
            if t == "name" and v.split()[0].lower().rstrip(".") in _NOT_NAMES:
                continue
            if v not in values:
                values.append(v)
        found[t] = values[:limit]
    return found


_PLACEHOLDER = re.compile(r"\[(first_name|name|company|city)\]|\{(first_name|name|company|city)\}", re.I)


def personalize(content: str, recipient: dict[str, Any], greeting: bool = True) -> str:
    """Template personalisation: [first_name]/{company}-style placeholders filled from the
    recipient, and a greeting by first name when the content has none."""
    name = str(recipient.get("first_name") or str(recipient.get("name") or "").split(" ")[0] or "")
    values = {"first_name": name, "name": str(recipient.get("name") or name), "company": str(recipient.get("company") or ""),
              "city": str(recipient.get("city") or "")}
    out = _PLACEHOLDER.sub(lambda m: values[(m.group(1) or m.group(2)).lower()] or "there", content)
    if greeting and name and not re.match(r"\s*(hi|hello|dear|hey)\b", out, re.I):
        out = f"Hi {name},\n\n{out}"
    return out


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _parse_ts(value: Any) -> datetime | None:
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc)
    if isinstance(value, str):
        try:
            ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)
    return None


def open_histogram(opens: Iterable[Any], tz: ZoneInfo) -> tuple[Counter[int], Counter[int], int]:
    hours: Counter[int] = Counter()
    days: Counter[int] = Counter()
    n = 0
    for raw in opens:
        ts = _parse_ts(raw)
        if ts is None:
            continue
        local = ts.astimezone(tz)
        hours[local.hour] += 1
        days[local.weekday()] += 1
        n += 1
    return hours, days, n


def next_slot(now: datetime, tz: ZoneInfo, hour: int, weekday: int | None) -> datetime:
    """The first local `hour`:00 (on `weekday` when given) strictly after now, in UTC."""
    local = now.astimezone(tz)
    cand = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    for _ in range(8):
        if cand > local and (weekday is None or cand.weekday() == weekday):
            return cand.astimezone(timezone.utc)
        cand = (cand + timedelta(days=1)).replace(hour=hour)
    return cand.astimezone(timezone.utc)


def best_send_time(opens: Iterable[Any], tz_name: str | None, now: datetime, default_hour: int = 10) -> dict[str, Any]:
    """Most frequent local open hour (ties: earlier hour) and, with enough history, weekday;
    with no history, `default_hour` on the next day."""
    tz = zone(tz_name)
    hours, days, n = open_histogram(opens, tz)
    hour = min(hours, key=lambda h: (-hours[h], h)) if n else default_hour
    weekday = min(days, key=lambda d: (-days[d], d)) if n >= 5 else None
    send_at = next_slot(now, tz, hour, weekday)
    confidence = round(hours[hour] / n, 3) if n else 0.0
    return {"send_at": send_at.isoformat().replace("+00:00", "Z"), "local_hour": hour, "weekday": weekday,
            "timezone": tz.key, "opens_used": n, "confidence": confidence}
