"""Every table is declared where backend/db/models.py's rule says: shared tables there, a
domain's own tables in backend/<domain>/models.py."""

from __future__ import annotations

import backend.app  # noqa: F401  (imports every domain, so every model is registered)
from backend.db.models import Base


def test_every_mapped_table_is_declared_in_a_models_module():
    """No table is declared in a controller, a service or a helper module."""
    homes = {mapper.class_.__tablename__: mapper.class_.__module__ for mapper in Base.registry.mappers}
    misplaced = {table: module for table, module in homes.items()
                 if not (module == "backend.db.models" or
                         (module.startswith("backend.") and module.endswith(".models") and module.count(".") == 2))}
    assert not misplaced, misplaced
    assert len(homes) > 20   # the app's tables were all imported
