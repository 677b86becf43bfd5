"""The index version of a collection: it changes whenever an ingestion writes or deletes
anything in it. The response cache keys on it (so any ingestion invalidates cached answers)
and eval runs record it.

The version is ``"<counter>.<token>"``: the counter orders versions, and the random token
makes a version unique even when the database is recreated (a cache in Redis that outlived
the database never matches a new version). ``"0"`` means nothing was ever ingested.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import Engine

metadata = sa.MetaData()

index_version = sa.Table(
    "retrieval_index_version",
    metadata,
    sa.Column("collection", sa.String(200), primary_key=True),
    sa.Column("counter", sa.BigInteger(), nullable=False),
    sa.Column("token", sa.String(32), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

NEVER_INGESTED = "0"


def index_for_model(collection: str, embedder_id: str) -> str:
    """``collection``'s index under the embedder ``embedder_id`` (its ``config_id``):
    ``<collection>--<model>-<hash>``, a valid collection name; the same given it already."""
    model = embedder_id.split(":")[1] if embedder_id.count(":") >= 2 else embedder_id
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", model).strip("-")[:40] or "model"
    suffix = f"--{slug}-{hashlib.sha256(embedder_id.encode()).hexdigest()[:8]}"
    return collection if collection.endswith(suffix) else collection + suffix


def current(engine: Engine, collection: str) -> str:
    """The collection's current index version (``"0"`` before the first ingestion)."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(index_version.c.counter, index_version.c.token).where(
                index_version.c.collection == collection
            )
        ).first()
    return NEVER_INGESTED if row is None else f"{row.counter}.{row.token}"


def bump(engine: Engine, collection: str) -> str:
    """Move the collection to a new index version and return it (atomic; safe across
    processes: the increment runs in the database)."""
    token = secrets.token_hex(6)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        updated = conn.execute(
            index_version.update()
            .where(index_version.c.collection == collection)
            .values(counter=index_version.c.counter + 1, token=token, updated_at=now)
        )
        if updated.rowcount == 0:
            try:
                with conn.begin_nested():
                    conn.execute(
                        index_version.insert().values(
                            collection=collection, counter=1, token=token, updated_at=now
                        )
                    )
            except sa.exc.IntegrityError:  # another writer inserted it first
                conn.execute(
                    index_version.update()
                    .where(index_version.c.collection == collection)
                    .values(counter=index_version.c.counter + 1, token=token, updated_at=now)
                )
        row = conn.execute(
            sa.select(index_version.c.counter).where(index_version.c.collection == collection)
        ).one()
    return f"{row.counter}.{token}"
