"""The canonical-string pieces, as pure functions."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from hypothesis import given
from hypothesis import strategies as st

from zhipei.orgs.signing import (
    canonical_path,
    canonical_query,
    canonical_string,
    signature,
    signed_headers,
)

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_query_pairs_sorted_by_name_then_value_and_rfc3986_encoded():
    assert canonical_query("b=2&a=z&a=1&c") == "a=1&a=z&b=2&c="
    assert canonical_query("q=a+b&r=a%20b&s=%7e&t=/") == "q=a%20b&r=a%20b&s=~&t=%2F"
    assert canonical_query("name=张三") == "name=%E5%BC%A0%E4%B8%89"
    assert canonical_query("") == ""


def test_path_is_percent_encoded_but_slashes_stay():
    assert canonical_path("/api/v1/platform") == "/api/v1/platform"
    assert canonical_path("/api/v1/a b/张") == "/api/v1/a%20b/%E5%BC%A0"
    assert canonical_path("/api/v1/a%20b") == "/api/v1/a%20b"


def test_canonical_string_layout():
    canonical = canonical_string(
        method="get", path="/p", query="", timestamp="1", nonce="n" * 16, body=b""
    )
    assert canonical == "GET\n/p\n\n1\n" + "n" * 16 + "\n" + EMPTY_SHA256


pairs = st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8)), max_size=6)


@given(pairs, st.randoms())
def test_query_order_and_encoding_style_do_not_change_the_canonical_form(items, rnd):
    shuffled = list(items)
    rnd.shuffle(shuffled)
    plus_style = urlencode(items)
    percent_style = urlencode(shuffled, quote_via=quote)
    assert canonical_query(plus_style) == canonical_query(percent_style)


@given(st.binary(max_size=64), st.binary(max_size=64))
def test_different_bodies_give_different_signatures(body_a, body_b):
    a = signed_headers(
        "pk_x", "s", method="POST", path="/p", body=body_a, timestamp=1, nonce="n" * 16
    )
    b = signed_headers(
        "pk_x", "s", method="POST", path="/p", body=body_b, timestamp=1, nonce="n" * 16
    )
    assert (a["X-Zhipei-Signature"] == b["X-Zhipei-Signature"]) == (body_a == body_b)


def test_signature_is_lower_case_hex_hmac_sha256():
    # RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
    assert signature("Jefe", "what do ya want for nothing?") == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )
