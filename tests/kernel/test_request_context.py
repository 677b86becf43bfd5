"""``header_value``: a header of a request or scope by its lower-case name, without Starlette's
raise-and-catch for the ones that are absent."""

from __future__ import annotations

from starlette.requests import Request

from kernel.request_context import header_value

SCOPE = {
    "type": "http",
    "headers": [
        (b"x-api-key", b"lg_k1_secret"),
        (b"x-loregate-tag", b"first"),
        (b"x-loregate-tag", b"second"),
        (b"user-agent", b"caf\xe9"),
    ],
}


def test_a_present_header_gives_its_first_value_from_a_scope_or_a_request() -> None:
    assert header_value(SCOPE, "x-api-key") == "lg_k1_secret"
    assert header_value(Request(SCOPE), "x-loregate-tag") == "first"
    assert header_value(SCOPE, "user-agent") == "café"  # latin-1, as Starlette decodes it
    assert header_value(Request(SCOPE), "x-loregate-tag") == Request(SCOPE).headers.get(
        "x-loregate-tag"
    )


def test_an_absent_header_or_headerless_scope_is_none() -> None:
    assert header_value(SCOPE, "authorization") is None
    assert header_value({"type": "http"}, "x-api-key") is None


def test_headers_a_middleware_replaced_are_read_again() -> None:
    scope = {"type": "http", "headers": [(b"x-api-key", b"old")]}
    assert header_value(scope, "x-api-key") == "old"  # the headers made a dict, kept
    scope["headers"] = [(b"x-api-key", b"new")]
    assert header_value(scope, "x-api-key") == "new"
