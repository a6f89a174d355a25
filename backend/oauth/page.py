"""The page GET /oauth/callback answers: it tells the editor how the connect flow ended and closes.

The editor opened the authorize URL in a popup; this page, on the app's own origin, posts
{type: "maily-oauth", credential_id, ok, error} to window.opener for location.origin only, and
closes. An authorization server that sets Cross-Origin-Opener-Policy cuts the popup off from its
opener, so the page also posts on a same-origin BroadcastChannel("maily-oauth"), and when
neither reaches anyone (the URL was opened in a tab) it stays open showing the outcome.

The app's CSP allows no inline script, so this response carries its own policy with a nonce.
The outcome travels in a JSON data block, never inside the script text.
"""

from __future__ import annotations

import html
import json
import secrets

from litestar import MediaType, Response

_SCRIPT = """
const result = JSON.parse(document.getElementById("result").textContent);
const message = {type: "maily-oauth", ...result};
let told = false;
if (window.opener && !window.opener.closed) {
  window.opener.postMessage(message, location.origin);
  told = true;
}
if ("BroadcastChannel" in window) {
  const channel = new BroadcastChannel("maily-oauth");
  channel.postMessage(message);
  channel.close();
}
if (told) window.close();
"""

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - Maily Flow</title></head>
<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem">
<main><h1>{title}</h1><p role="status">{text}</p><p>You can close this window.</p></main>
<script type="application/json" id="result">{data}</script>
<script nonce="{nonce}">{script}</script>
</body></html>"""


def callback_page(credential_id: str | None, ok: bool, error: str | None = None) -> Response[str]:
    """The HTML answer of /oauth/callback (200 when connected, 400 otherwise)."""
    nonce = secrets.token_urlsafe(16)
    data = json.dumps({"credential_id": credential_id, "ok": ok, "error": error})
    # "</" inside the data block would end the script element early.
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    title = "Connected" if ok else "Not connected"
    text = "The credential is connected; its tokens are stored in the workspace's vault." if ok else html.escape(error or "")
    policy = (f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; base-uri 'none'; "
              "form-action 'none'; frame-ancestors 'none'")
    body = _PAGE.format(title=title, text=text, data=data, nonce=nonce, script=_SCRIPT)
    return Response(body, status_code=200 if ok else 400, media_type=MediaType.HTML,
                    headers={"Content-Security-Policy": policy, "Cache-Control": "no-store"})
