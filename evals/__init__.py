"""Evals: datasets, the runner, metrics, run records, comparison, the gate and reports.

    dataset.py        the JSONL format and its loader (errors name file, line and field)
    dataset_loader.py a dataset from a path: a JSONL file or a known folder layout
    claude_docs.py    the Claude-docs RAG folder (its corpus ingested by the run itself)
    corpus.py         documents a dataset carries (pre-parsed, for ``Ingestor.ingest_documents``)
    answerers.py      the query path: in-process ``AnswerService.ask`` or ``POST /v1/ask``
    runner.py         bounded concurrency, one stored result per question, resumable
    run_store.py      ``eval_runs`` / ``eval_results`` (tables.py, migrations/)
    records.py        Snapshot, QuestionResult, RunInfo
    metrics/          ranx IR metrics, offline ragas, the gateway-backed judge, cost and latency
    compare.py        paired bootstrap deltas and the questions that moved most
    gate.py           ``--fail-on`` rules
    session.py        one session end to end (create or resume, run, compare, gate, report)
    report/           the self-contained HTML report and its Markdown twin
    console.py        progress bar and terminal tables
    overview.py       tables for notebooks/eval_overview.ipynb

Nothing here imports ragas, ranx or matplotlib at import time: they load when a run scores or
a report is drawn.
"""
