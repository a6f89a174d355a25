"""Template tables: templates people saved or uploaded, and the link from a workflow to the
template (and version, parameters and graph) it was imported from. Built-in gallery
templates are files (templates/gallery/), never rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.models import Base, JSONType, UtcDateTime, new_id, utcnow

VISIBILITIES = ("private", "workspace", "public")


class Template(Base):
    """`document` is the whole template file in the current format (templates/format.py)."""

    __tablename__ = "templates"
    __table_args__ = (sa.Index("ix_templates_tenant_id_visibility", "tenant_id", "visibility"),
                      sa.Index("ix_templates_visibility", "visibility"))

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    owner_id: Mapped[str | None] = mapped_column(sa.String(32), sa.ForeignKey("users.id", ondelete="SET NULL"),
                                                 nullable=True)
    slug: Mapped[str] = mapped_column(sa.String(64))
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    category: Mapped[str] = mapped_column(sa.String(64), default="general")
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    icon: Mapped[str] = mapped_column(sa.String(40), default="workflow")
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    visibility: Mapped[str] = mapped_column(sa.String(20), default="private")
    document: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)


class TemplateLink(Base):
    """A workflow made from a template: which one, which version, with which parameters, and
    the graph that import produced (the base of a three-way merge of the next version)."""

    __tablename__ = "template_links"

    workflow_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("workflows.id", ondelete="CASCADE"),
                                             primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.String(32), index=True)
    template_id: Mapped[str] = mapped_column(sa.String(64))      # a gallery slug or a templates.id
    template_version: Mapped[int] = mapped_column(sa.Integer)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    base_graph: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # The template's triggers as the import (or the last update) resolved and created them: the base an
    # update compares the new version's triggers with. None for links made before it was kept.
    base_triggers: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
