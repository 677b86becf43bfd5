"""The SQL database every package shares: SQLite by default, PostgreSQL by URL.

Each package owns its tables (its own ``MetaData``) and its own Alembic branch, in
``<package>/migrations/`` with ``branch_labels=("<package>",)`` on its first revision.
``migrate`` upgrades every branch to its head.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event

ROOT = Path(__file__).resolve().parent.parent
MIGRATION_PACKAGES = ("gateway", "governance", "retrieval", "ingest", "evals", "console")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the pragmas SQLite needs for concurrent writers (WAL, busy timeout)."""
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        # A batch of rows (ledger, audit) goes out as multi-row INSERTs of at most 50 rows,
        # as on PostgreSQL, not as one step per row: the driver gives the GIL up around each
        # step, and a writer thread beside a busy event loop then waits up to the switch
        # interval (5 ms) to get it back, per row; its queue outgrew a loaded server. Pages of
        # 50 keep the distinct statements (and the driver's statement cache) small.
        kwargs.setdefault("insertmanyvalues_page_size", 50)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        engine.dialect.use_insertmanyvalues_wo_returning = True

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def writer_engine(url: str) -> Engine:
    """The engine of the frequent writers (budget counters, audit appends): on SQLite their own
    connections with ``synchronous=NORMAL`` (in WAL mode a commit then needs no fsync and holds
    the write lock that much shorter; a power cut may lose the last commits, never corrupt the
    file, and the ledger keeps the truth of spending); elsewhere a plain engine."""
    engine = make_engine(url)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _fast_commits(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

    return engine


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "loregate" / "migrations"))
    locations = [
        str(ROOT / pkg / "migrations")
        for pkg in MIGRATION_PACKAGES
        if (ROOT / pkg / "migrations").is_dir()
    ]
    cfg.set_main_option("version_locations", " ".join(locations))
    cfg.set_main_option("path_separator", "space")
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring every package's tables to their latest revision (idempotent)."""
    command.upgrade(alembic_config(engine), "heads")


def pending_migrations(engine: Engine) -> list[str]:
    """The head revisions the database has not reached yet (empty when up to date).
    Raises the driver's error when the database cannot be reached."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(engine))
    heads = set(script.get_heads())
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    reached: set[str] = set()
    for rev in current:
        reached.update(r.revision for r in script.iterate_revisions(rev, "base"))
    return sorted(heads - reached)
