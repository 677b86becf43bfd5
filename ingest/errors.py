"""Ingestion's errors.

Two kinds:

- ``FileRejected``: one file (or one document) cannot be ingested. It never stops a job: the
  job records ``code`` and the message for that file, keeps the document's previous version
  searchable, and goes on. Codes: ``empty_file``, ``file_too_large``, ``unsupported_type``,
  ``binary_content``, ``bad_encoding``, ``corrupt_file``, ``encrypted_file``, ``needs_ocr``,
  ``no_text``, ``bad_ticket_export``, ``parse_error``, ``chunk_error``.
- ``ApiError`` subclasses for a request that cannot start at all (HTTP 400/404/409): a source
  path that does not exist, an invalid manifest, a job already running on the collection.
"""

from __future__ import annotations

from kernel.errors import ApiError, InvalidRequest, NotFound


class FileRejected(Exception):
    """A file or document that cannot be ingested; the job records it and goes on."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class SourceNotFound(NotFound):
    code = "source_not_found"


class InvalidManifest(InvalidRequest):
    code = "invalid_manifest"


class PathNotAllowed(InvalidRequest):
    code = "path_not_allowed"


class JobConflict(ApiError):
    code = "ingest_job_running"
    status = 409


class DocumentNotFound(NotFound):
    code = "document_not_found"
