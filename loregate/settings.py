"""loregate's settings: one typed object, read once from the environment.

Every server-backed part is switched on by its URL alone and falls back to its embedded
default without one:

    LOREGATE_DATABASE_URL  unset -> SQLite at $LOREGATE_HOME/loregate.db;
                           postgresql://... -> PostgreSQL
    LOREGATE_REDIS_URL     unset -> in-process limits and caches; redis://... -> Redis
    LOREGATE_QDRANT_URL    unset -> embedded Qdrant (qdrant-edge) under $LOREGATE_HOME;
                           http(s)://... -> Qdrant server or cluster (qdrant-client)
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import AliasChoices, Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "LOREGATE_"


class SettingsError(ValueError):
    """A setting has a bad value; the message names the environment variable."""


if TYPE_CHECKING:
    from retrieval.store.server import QdrantCluster


def _check_scheme(value: str | None, schemes: tuple[str, ...], what: str) -> str | None:
    if value is None or value == "":
        return None
    if not value.startswith(schemes):
        raise ValueError(f"must be a {what} URL starting with one of {', '.join(schemes)}")
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    home: Path = Field(default=Path.home() / ".loregate", description="data directory")
    config: Path | None = Field(default=None, description="routes/models/prices/prompts file")
    database_url: str | None = None
    redis_url: str | None = None
    qdrant_url: str | None = None
    qdrant_api_key: str | None = None
    # A Qdrant cluster's layout of a new collection (docs/operating.md); unset: the server's.
    qdrant_shards: int | None = Field(default=None, ge=1)
    qdrant_replication: int | None = Field(default=None, ge=1)
    qdrant_write_consistency: int | None = Field(default=None, ge=1)
    qdrant_tenant_key: str | None = Field(default=None, pattern=r"^[a-z_]+$")
    collection: str = Field(default="loregate", min_length=1, pattern=r"^[A-Za-z0-9_-]+$")
    embedding_model: str | None = Field(
        default=None, description="sentence-transformers name or path; default: bundled MiniLM"
    )
    embeddings_url: str | None = Field(
        default=None,
        description="an OpenAI-compatible embeddings server's base URL (vLLM, TEI, infinity); "
        "LOREGATE_EMBEDDING_MODEL is then the model id it serves",
    )
    embeddings_api_key: str | None = None
    embeddings_tokenizer: str | None = Field(
        default=None, description="tokenizer.json (or model directory) to size chunks with"
    )
    embeddings_max_tokens: int = Field(default=256, ge=16)
    local_model: Path | None = Field(
        default=None, description="GGUF file of the local model; default: bundled SmolLM2"
    )
    max_file_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    ingest_queue: bool = Field(
        default=False,
        description="leave API ingestion jobs queued for `loregate ingest-worker` processes "
        "(scaled-out shape) instead of running them inside the API process",
    )
    ingest_broker: str | None = Field(
        default=None,
        description="amqp://... : API jobs become per-document tasks on RabbitMQ, shared by "
        "every `loregate ingest-worker`; unset: jobs run in the API process",
    )
    ingest_queue_name: str = Field(
        default="loregate-ingest",
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="the RabbitMQ queue of the ingestion tasks (one per deployment)",
    )
    ingest_roots: str | None = Field(
        default=None,
        description="folders (os.pathsep-separated) the ingestion API may read; "
        "default: $LOREGATE_HOME/inbox",
    )
    redact_upstream: bool = False
    audit_process: bool = Field(
        default=False,
        description="redact and append audit records, and insert ledger rows, in worker "
        "processes, off the serving process's interpreter lock (`loregate serve` turns it on "
        "unless set)",
    )
    passthrough: bool = Field(
        default=True,
        description="forward a client's body as bytes to a provider of the same format "
        "(no SDK round trip); off: every request goes through the providers' SDKs",
    )
    mcp_servers: Path | None = Field(
        default=None,
        description="TOML file of the upstream MCP servers the tool gateway fronts "
        "(docs/mcp.md); unset: /mcp serves loregate's own tools only",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="the URL clients reach loregate at (the MCP endpoint's resource metadata)",
    )
    console_rollup_interval_s: float = Field(
        default=10.0, gt=0, description="how often the console folds the ledger into its rollup"
    )
    journal: bool = Field(
        default=True,
        description="journal each request's ledger rows and budget settlement to local disk "
        "before its response ($LOREGATE_HOME/journal), replayed at start after a crash",
    )
    journal_fsync: Literal["interval", "always"] = Field(
        default="interval",
        description="interval: the journal's lines reach the file before each response and "
        "disk once a second (a killed process loses nothing; a machine crash up to a second); "
        "always: fdatasync before each response (a power cut loses nothing; +0.1-0.3 ms each)",
    )
    standing_knowledge: Path | None = Field(
        default=None, description="text file added to the answer prompt's cached prefix"
    )
    prompt_cache_padding: str = Field(default="auto", pattern=r"^(auto|always|never)$")
    asks_per_cache_window: float = Field(
        default=20.0, gt=0, description="expected asks per 5 minutes (prefix padding decision)"
    )
    chunk_context: Literal["header", "model"] = Field(
        default="header",
        description="who writes the context in front of each chunk (ingest.chunk_contexts): "
        "header = the document's identity and section path, no model; model = a model "
        "through the gateway, the document as a cached prefix",
    )
    chunk_context_route: str = Field(default="chunk-context", min_length=1)
    rerank_weight: float = Field(
        default=0.0,
        ge=0.0,
        le=5.0,
        description="weight of the coverage reranker after fusion (retrieval.rerank); 0: off. "
        "0.6 was chosen on the earnings calls (docs/retrieval.md)",
    )
    min_relevance: float | None = Field(
        default=None,
        gt=0.0,
        le=1.0,
        allow_inf_nan=False,
        description="absolute floor on fused relevance scores (0 < x <= 1) below which a hit "
        "is never sent to the model, the best one included; unset: off (relative floor only)",
    )
    currency: str = Field(
        default="USD",
        pattern=r"^[A-Z]{3}$",
        description="the company currency: invoices, budgets and the console show it "
        "(rates to USD are data: `loregate billing rates`)",
    )
    company_name: str = Field(default="loregate", description="the invoices' issuer")
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL)$")

    # The providers' own standard variables (no LOREGATE_ prefix).
    anthropic_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("ANTHROPIC_API_KEY")
    )
    anthropic_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("ANTHROPIC_BASE_URL")
    )
    openai_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL")
    )

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, v: str | None) -> str | None:
        return _check_scheme(v, ("sqlite", "postgresql"), "database (SQLAlchemy)")

    @field_validator("ingest_broker")
    @classmethod
    def _ingest_broker(cls, v: str | None) -> str | None:
        return _check_scheme(v, ("amqp://", "amqps://"), "RabbitMQ (AMQP)")

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, v: str | None) -> str | None:
        return _check_scheme(v, ("redis://", "rediss://", "unix://"), "Redis")

    @field_validator("qdrant_url", "anthropic_base_url", "openai_base_url", "embeddings_url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        return _check_scheme(v, ("http://", "https://"), "HTTP")

    @field_validator("embeddings_url")
    @classmethod
    def _served_model(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v and not info.data.get("embedding_model"):
            raise ValueError(
                "needs LOREGATE_EMBEDDING_MODEL too: the id of the model the server serves"
            )
        return v

    @field_validator("min_relevance", mode="before")
    @classmethod
    def _off_when_empty(cls, v: Any) -> Any:
        return None if isinstance(v, str) and v.strip().lower() in ("", "off", "none") else v

    @field_validator("config")
    @classmethod
    def _config_exists(cls, v: Path | None) -> Path | None:
        if v is not None and not v.is_file():
            raise ValueError(f"no such file: {v}")
        return v

    # Derived values -------------------------------------------------------------------------
    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url[len("postgresql://") :]
            return url
        return f"sqlite:///{self.home / 'loregate.db'}"

    @property
    def qdrant_path(self) -> Path:
        return self.home / "qdrant"

    def qdrant_cluster(self) -> QdrantCluster:
        """How a new collection is laid out on a Qdrant cluster."""
        from retrieval.store.server import QdrantCluster

        return QdrantCluster(
            shards=self.qdrant_shards,
            replication=self.qdrant_replication,
            write_consistency=self.qdrant_write_consistency,
            tenant_key=self.qdrant_tenant_key,
        )

    @property
    def ingest_root_paths(self) -> list[Path]:
        """The folders the ingestion API may read (``LOREGATE_INGEST_ROOTS``, os.pathsep-
        separated; default ``$LOREGATE_HOME/inbox``), resolved."""
        if self.ingest_roots:
            parts = [p for p in self.ingest_roots.split(os.pathsep) if p]
            return [Path(p).expanduser().resolve() for p in parts]
        return [(self.home / "inbox").resolve()]


_ALIASES = {
    "anthropic_api_key": "ANTHROPIC_API_KEY",
    "anthropic_base_url": "ANTHROPIC_BASE_URL",
    "openai_api_key": "OPENAI_API_KEY",
    "openai_base_url": "OPENAI_BASE_URL",
}


def env_name(field: str) -> str:
    """The environment variable that sets ``field``."""
    return _ALIASES.get(field, ENV_PREFIX + field.upper())


def load_settings(**overrides: Any) -> Settings:
    """Read the environment once; raise ``SettingsError`` naming each bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            problems.append(f"{env_name(field)}: {err['msg']} (got {err.get('input')!r})")
        raise SettingsError("bad settings:\n  " + "\n  ".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
