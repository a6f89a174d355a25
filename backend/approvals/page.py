"""The approval page's HTML: the form an approval.wait node asks for, rendered from its JSON Schema.

Jinja in ImmutableSandboxedEnvironment with autoescape: the title, instructions and labels are
the workflow author's text. No script (the CSP allows none); plain form fields with labels,
the errors named next to their field and summarised in an alert, two submit buttons.
"""

from __future__ import annotations

import json
from typing import Any

from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

_ENV = ImmutableSandboxedEnvironment(autoescape=True)

_LAYOUT = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{ page_title }} · Maily Flow</title>
<style>
body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a;line-height:1.5}
label{display:block;font-weight:600;margin-top:1rem}
input,select,textarea{font:inherit;padding:.4rem;border:1px solid #555;border-radius:4px;width:100%;box-sizing:border-box}
input[type=checkbox]{width:auto}
pre{background:#f3f3f3;padding:.75rem;overflow:auto;white-space:pre-wrap}
.error{color:#a40000}.hint{color:#444;font-size:.9rem}
.actions{margin-top:1.5rem;display:flex;gap:1rem}
button{font:inherit;padding:.5rem 1.25rem;border-radius:4px;border:2px solid #1a1a1a;cursor:pointer}
button.approve{background:#0b6b2e;color:#fff;border-color:#0b6b2e}
button.reject{background:#fff;color:#a40000;border-color:#a40000}
button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible{outline:3px solid #1f5fbf;outline-offset:2px}
</style></head><body><main>{{ body }}</main></body></html>"""

_FORM = """<h1>{{ title }}</h1>
{% if instructions %}<p>{{ instructions }}</p>{% endif %}
{% if shown %}<h2>What is to be approved</h2><pre>{{ shown }}</pre>{% endif %}
<p class="hint">You decide as {{ email }}.{% if deadline %} Decide before {{ deadline }} (UTC); then it is {{ default_decision }}.{% endif %}</p>
{% if errors %}<div role="alert" id="problems"><h2 class="error">The form has problems</h2><ul>
{% for e in errors %}<li class="error">{{ e.field or "form" }}: {{ e.message }}</li>{% endfor %}</ul></div>{% endif %}
<form method="post">
{% for f in fields %}
  {% if f.kind == "checkbox" %}
  <label><input type="checkbox" name="{{ f.name }}" value="true"{% if f.value %} checked{% endif %}
     {% if f.error %} aria-invalid="true" aria-describedby="err-{{ loop.index }}"{% endif %}> {{ f.label }}</label>
  {% else %}
  <label for="field-{{ loop.index }}">{{ f.label }}{% if f.required %} (required){% endif %}</label>
  {% if f.description %}<div class="hint" id="hint-{{ loop.index }}">{{ f.description }}</div>{% endif %}
  {% if f.kind == "select" %}
  <select id="field-{{ loop.index }}" name="{{ f.name }}"{% if f.required %} required{% endif %}
     {% if f.error %} aria-invalid="true" aria-describedby="err-{{ loop.index }}"{% endif %}>
    {% if not f.required %}<option value="">(none)</option>{% endif %}
    {% for o in f.options %}<option value="{{ o }}"{% if o == f.value %} selected{% endif %}>{{ o }}</option>{% endfor %}
  </select>
  {% elif f.kind == "textarea" %}
  <textarea id="field-{{ loop.index }}" name="{{ f.name }}" rows="4"{% if f.required %} required{% endif %}
     {% if f.error %} aria-invalid="true" aria-describedby="err-{{ loop.index }}"{% endif %}>{{ f.value }}</textarea>
  {% else %}
  <input id="field-{{ loop.index }}" name="{{ f.name }}" type="{{ f.kind }}" value="{{ f.value }}"{% if f.kind == "number" %} step="any"{% endif %}
     {% if f.required %} required{% endif %}{% if f.error %} aria-invalid="true" aria-describedby="err-{{ loop.index }}"{% endif %}>
  {% endif %}{% endif %}
  {% if f.error %}<div class="error" id="err-{{ loop.index }}">{{ f.error }}</div>{% endif %}
{% endfor %}
<div class="actions">
<button type="submit" class="approve" name="decision" value="approved">Approve</button>
<button type="submit" class="reject" name="decision" value="rejected">Reject</button>
</div>
</form>"""

_MESSAGE = """<h1>{{ heading }}</h1><p{% if alert %} role="alert"{% endif %}>{{ message }}</p>"""


_LAYOUT_T, _FORM_T, _MESSAGE_T = (_ENV.from_string(t) for t in (_LAYOUT, _FORM, _MESSAGE))


def _layout(page_title: str, body: str) -> str:
    # `body` is HTML this module rendered with autoescape: marked safe, not escaped twice
    return _LAYOUT_T.render(page_title=page_title, body=Markup(body))


def message_page(heading: str, message: str, alert: bool = False) -> str:
    return _layout(heading, _MESSAGE_T.render(heading=heading, message=message, alert=alert))


def _fields(form: dict[str, Any], values: dict[str, Any], errors: list[dict[str, str]]) -> list[dict[str, Any]]:
    required = set(form.get("required") or [])
    by_field = {e["field"].split("/")[0]: e["message"] for e in errors}
    out = []
    for name, prop in (form.get("properties") or {}).items():
        prop = prop if isinstance(prop, dict) else {}
        kind = {"boolean": "checkbox", "integer": "number", "number": "number"}.get(prop.get("type"), "text")
        if prop.get("enum"):
            kind = "select"
        elif prop.get("type") in ("object", "array"):
            kind = "textarea"
        value = values.get(name, prop.get("default", ""))
        if kind == "textarea" and not isinstance(value, str):
            value = json.dumps(value)
        out.append({"name": name, "label": prop.get("title") or name, "description": prop.get("description", ""),
                    "kind": kind, "required": name in required, "options": [str(o) for o in prop.get("enum") or []],
                    "value": value, "error": by_field.get(name)})
    return out


def form_page(details: dict[str, Any], email: str, shown: str, values: dict[str, Any] | None = None,
              errors: list[dict[str, str]] | None = None) -> str:
    form = details.get("form") or {}
    deadline = (details.get("deadline") or "")[:16].replace("T", " ")
    body = _FORM_T.render(
        title=details.get("title") or "Approval needed", instructions=details.get("instructions") or "", shown=shown,
        email=email, deadline=deadline, default_decision=details.get("default_decision") or "rejected",
        errors=errors or [], fields=_fields(form, values or {}, errors or []))
    return _layout(details.get("title") or "Approval needed", body)


def form_data(form: dict[str, Any], posted: dict[str, Any]) -> dict[str, Any]:
    """The posted fields typed as the form's schema says (what cannot be converted stays text, for
    the schema check to name)."""
    data: dict[str, Any] = {}
    for name, prop in (form.get("properties") or {}).items():
        prop = prop if isinstance(prop, dict) else {}
        kind, raw = prop.get("type"), posted.get(name)
        if kind == "boolean":
            data[name] = raw == "true"
            continue
        if raw is None or raw == "":
            continue
        try:
            data[name] = (int(raw) if kind == "integer" else float(raw) if kind == "number"
                          else json.loads(raw) if kind in ("object", "array") else raw)
        except ValueError:
            data[name] = raw
    return data
