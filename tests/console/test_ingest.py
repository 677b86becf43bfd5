"""Documents and ingestion jobs in the console: a job started as the API starts one (same
checks, same runner), its progress and failures per file, run again; documents with their
access lists, deleted."""

from __future__ import annotations

import time

from ingest.jobs import JobRecord
from tests.console.rig import ConsoleRig, client, sign_in


def wait_done(rig: ConsoleRig, job_id: str) -> JobRecord:
    deadline = time.monotonic() + 30
    while True:
        record = rig.graph.job_store.get(job_id)
        assert record is not None
        if record.status not in ("queued", "running") or time.monotonic() > deadline:
            return record
        time.sleep(0.05)


async def test_start_follow_and_rerun_a_job_then_delete_a_document(rig: ConsoleRig) -> None:
    inbox = rig.graph.settings.home / "inbox" / "policies"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "travel.md").write_text("# Travel\n\n## Trains\n\nSecond class for trips under 4 h.\n")
    (inbox / "broken.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    async with client(rig.app) as http:
        csrf = await sign_in(http, rig.keys["owner"])
        outside = await http.post("/console/ingest/jobs", data={"paths": "/etc", "csrf": csrf})
        assert outside.status_code == 400 and "outside the folders" in outside.text
        started = await http.post("/console/ingest/jobs", data={"paths": str(inbox), "csrf": csrf})
        assert started.status_code == 303
        first = rig.graph.job_store.recent(1)[0]
        done = wait_done(rig, first.id)
        assert done.status == "completed_with_errors", done
        page = await http.get("/console/ingest")
        assert first.id[:8] in page.text and "broken.pdf" in page.text
        assert "Travel" in page.text and "public" in page.text  # the document and its access
        again = await http.post(f"/console/ingest/jobs/{first.id}/rerun", data={"csrf": csrf})
        assert again.status_code == 303
        second = rig.graph.job_store.recent(1)[0]
        assert second.id != first.id and second.request == first.request
        wait_done(rig, second.id)
        doc = next(d for d in rig.graph.ingestor().documents(None) if d.title == "Travel")
        gone = await http.post(
            f"/console/ingest/documents/{doc.doc_id}/delete", data={"csrf": csrf}
        )
        assert gone.status_code == 303
        assert all(d.doc_id != doc.doc_id for d in rig.graph.ingestor().documents(None))
