"""The built-in gallery: templates/gallery/*.json, read once, read-only and public.

Each file goes through the same gate as an upload (templates.migrate.load_template), so a
broken gallery file fails loudly at the first use (and in the test suite), never silently.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from templates.format import TemplateFile
from templates.migrate import load_template

GALLERY_DIR = Path(__file__).resolve().parent / "gallery"


def load_file(path: Path, registry: Any) -> TemplateFile:
    tpl = load_template(json.loads(path.read_text(encoding="utf-8")), registry)
    if tpl.id != path.stem:
        raise ValueError(f"{path.name}: id {tpl.id!r} differs from the file name")
    return tpl


@lru_cache(maxsize=4)
def _load(directory: str, registry: Any) -> dict[str, TemplateFile]:
    return {p.stem: load_file(p, registry) for p in sorted(Path(directory).glob("*.json"))}


def builtin_templates(registry: Any, directory: Path = GALLERY_DIR) -> dict[str, TemplateFile]:
    """id -> template, in file name order."""
    return _load(str(directory), registry)
