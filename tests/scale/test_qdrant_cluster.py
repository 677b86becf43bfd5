"""A Qdrant cluster's layout (shards, replicas, tenant key) comes from the settings alone and
reaches the collection loregate creates."""

from __future__ import annotations

from typing import Any

from qdrant_client.http import models

from retrieval.store.server import ServerStore
from tests.graphs import rig_settings


class Recorder:
    """Stands in for a QdrantClient connected to a cluster: records what it is asked."""

    def __init__(self) -> None:
        self.created: dict[str, Any] = {}
        self.indexes: dict[str, Any] = {}

    def collection_exists(self, name: str) -> bool:
        return False

    def create_collection(self, name: str, **kwargs: Any) -> None:
        self.created = kwargs

    def create_payload_index(self, name: str, field: str, schema: Any) -> None:
        self.indexes[field] = schema


def test_cluster_settings_shape_the_new_collection() -> None:
    settings = rig_settings(qdrant_shards=6, qdrant_replication=2, qdrant_tenant_key="department")
    client = Recorder()
    store = ServerStore("docs", client=client, cluster=settings.qdrant_cluster())  # type: ignore[arg-type]
    store.ensure_collection(384)
    assert client.created["shard_number"] == 6
    assert client.created["replication_factor"] == 2
    tenant = client.indexes["department"]
    assert isinstance(tenant, models.KeywordIndexParams) and tenant.is_tenant
    assert client.indexes["doc_type"] == models.PayloadSchemaType.KEYWORD


def test_without_settings_the_server_decides() -> None:
    client = Recorder()
    ServerStore("docs", client=client, cluster=rig_settings().qdrant_cluster()).ensure_collection(8)  # type: ignore[arg-type]
    assert client.created["shard_number"] is None
    assert client.created["replication_factor"] is None
    assert client.indexes["department"] == models.PayloadSchemaType.KEYWORD
