"""Loaders: from a file to parsed documents.

    files.py               read_file (validated bytes), parse_file (elements), ticket exports
    unstructured_loader.py document formats through unstructured (loaded on first parse)
    tickets.py             JSON/NDJSON/CSV ticket exports, one document per ticket
    ocr.py                 scanned PDFs through tesseract
    spacy_offline.py       unstructured's spaCy use, kept offline

This ``__init__`` imports nothing, so importing any loader runs no other one.
"""
