"""The app serves the built editor (SPA fallback) or a how-to page, and OpenAPI at /schema."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from backend.app import create_app
from tests.backend.conftest import assert_problem


async def test_without_editor_build_root_explains(settings, tmp_path):
    async with AsyncTestClient(create_app(settings, editor_dist=tmp_path / "missing")) as c:
        r = await c.get("/")
        assert r.status_code == 200 and "npm run build" in r.text and "/schema" in r.text


async def test_editor_build_is_served_with_spa_fallback(settings, tmp_path):
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<html>editor</html>")
    (dist / "assets" / "app.js").write_text("console.log(1)")
    async with AsyncTestClient(create_app(settings, editor_dist=dist)) as c:
        assert (await c.get("/")).text == "<html>editor</html>"
        assert (await c.get("/workflows/abc")).text == "<html>editor</html>"
        r = await c.get("/assets/app.js")
        assert r.status_code == 200 and "javascript" in r.headers["content-type"]
        assert_problem(await c.get("/assets/gone.js"), 404)
        assert_problem(await c.get("/api/nope"), 404)
        assert (await c.get("/schema/openapi.json")).status_code == 200
