"""Client IP from trusted proxies only, and no U+0000 in a request (zhipei.core.middleware)."""

import json

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from zhipei.core.middleware import (
    ClientIPMiddleware,
    NulCharacterMiddleware,
    client_ip,
    get_client_ip,
)

PROXIES = ["10.0.0.0/8", "192.0.2.10"]


def test_header_ignored_without_trusted_proxies():
    assert client_ip("203.0.113.5", "198.51.100.1", []) == "203.0.113.5"


def test_header_ignored_when_direct_peer_is_not_trusted():
    # A client talking to the app directly can write any X-Forwarded-For it likes.
    assert client_ip("203.0.113.5", "198.51.100.1", PROXIES) == "203.0.113.5"


def test_trusted_peer_passes_on_the_forwarded_client():
    assert client_ip("10.1.2.3", "198.51.100.1", PROXIES) == "198.51.100.1"


def test_right_most_untrusted_hop_wins():
    # The client forged "1.1.1.1"; the real client is the hop our proxies appended.
    header = "1.1.1.1, 198.51.100.1, 10.0.0.7"
    assert client_ip("10.1.2.3", header, PROXIES) == "198.51.100.1"


def test_single_address_proxy_entry_is_trusted():
    assert client_ip("192.0.2.10", "198.51.100.2", PROXIES) == "198.51.100.2"
    assert client_ip("192.0.2.11", "198.51.100.2", PROXIES) == "192.0.2.11"


def test_ipv6_hops_are_understood():
    assert client_ip("10.1.2.3", "2001:db8::1, 10.0.0.1", PROXIES) == "2001:db8::1"
    assert client_ip("fd00::1", "198.51.100.3", ["fd00::/8"]) == "198.51.100.3"


@pytest.mark.parametrize(
    "header",
    [
        "",
        "   ",
        ",,,",
        "not-an-ip",
        "198.51.100.1, garbage",
        "<script>",
        "999.999.999.999",
    ],
)
def test_garbage_headers_fall_back_to_remote_addr(header):
    assert client_ip("10.1.2.3", header, PROXIES) == "10.1.2.3"


def test_all_hops_trusted_gives_the_left_most():
    assert client_ip("10.1.2.3", "10.9.9.9, 10.0.0.1", PROXIES) == "10.9.9.9"


def test_bad_proxy_entries_are_skipped():
    assert client_ip("10.1.2.3", "198.51.100.1", ["nonsense", "10.0.0.0/8"]) == "198.51.100.1"
    assert client_ip("10.1.2.3", "198.51.100.1", ["nonsense"]) == "10.1.2.3"


def _through_middleware(settings, remote_addr, forwarded=None):
    seen = {}

    def view(request):
        seen["ip"] = get_client_ip(request)
        return HttpResponse()

    extra = {"REMOTE_ADDR": remote_addr}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    ClientIPMiddleware(view)(RequestFactory().get("/", **extra))
    return seen["ip"]


def test_middleware_uses_settings_trusted_proxies(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert _through_middleware(settings, "10.0.0.2", "198.51.100.4") == "198.51.100.4"
    assert _through_middleware(settings, "203.0.113.9", "198.51.100.4") == "203.0.113.9"


def test_middleware_without_trusted_proxies_ignores_the_header(settings):
    settings.TRUSTED_PROXIES = []
    assert _through_middleware(settings, "203.0.113.9", "198.51.100.4") == "203.0.113.9"


def test_get_client_ip_without_the_middleware_uses_remote_addr():
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.77")
    assert get_client_ip(request) == "203.0.113.77"


def test_forged_hops_left_of_the_real_client_do_not_matter():
    assert client_ip("10.1.2.3", "garbage, 198.51.100.1", PROXIES) == "198.51.100.1"


# --- U+0000 ------------------------------------------------------------------------------------
def _through(request):
    return NulCharacterMiddleware(lambda r: HttpResponse("reached the view"))(request)


@pytest.mark.parametrize(
    "request_",
    [
        RequestFactory().get("/officer/people/", {"q": "a\x00b"}),
        RequestFactory().get("/officer/people/", {"q\x00": "a"}),
        RequestFactory().post("/api/v1/x", {"name": "a\x00b"}),
        # A page's form too: custom fields and views query with what was posted.
        RequestFactory().post("/accounts/login/", {"username": "a\x00b"}),
        RequestFactory().post("/filings/new/apprenticeship/", {"occupations": "\x00"}),
    ],
)
def test_a_request_with_nul_is_400_and_never_reaches_the_view(request_):
    response = _through(request_)
    assert response.status_code == 400
    assert "U+0000" in response.content.decode()


def test_an_api_body_with_nul_is_a_400_problem_naming_the_property():
    body = json.dumps({"learners": [{"name": "ok"}, {"name": "a\x00b"}]})
    response = _through(RequestFactory().post("/api/v1/x", body, content_type="application/json"))
    assert response.status_code == 400
    problem = json.loads(response.content)
    assert problem["code"] == "nul_character"
    assert problem["field"] == "learners[1].name"


@pytest.mark.parametrize(
    "request_",
    [
        # A backslash followed by "u0000" is text, not NUL.
        RequestFactory().post(
            "/api/v1/x", json.dumps({"note": "\\u0000"}), content_type="application/json"
        ),
        RequestFactory().post("/api/v1/x", "{not json \\u0000", content_type="application/json"),
        RequestFactory().post(
            "/api/v1/x",
            '{"a": "\\u0000", "b": ' + "[" * 100_000 + "]" * 100_000 + "}",
            content_type="application/json",
        ),
        RequestFactory().get("/officer/people/", {"q": "王"}),
        # /xapi/ has its own handler and answers in xAPI's own error format.
        RequestFactory().get("/xapi/statements", {"agent": "a\x00"}),
    ],
)
def test_what_the_nul_check_lets_through(request_):
    assert _through(request_).content == b"reached the view"


def test_the_path_of_a_nul_deep_in_a_body_is_found():
    body = '{"x": 1, "deep": ' + "[" * 500 + '"a\\u0000"' + "]" * 500 + "}"
    response = _through(RequestFactory().post("/api/v1/x", body, content_type="application/json"))
    assert response.status_code == 400
    assert json.loads(response.content)["field"] == "deep" + "[0]" * 500


@pytest.mark.parametrize("path", ["/api/v1/courses/\x00", "/verify/completion/a\x00b"])
def test_a_nul_in_the_path_is_400(path):
    # A path parameter with NUL would otherwise reach a PostgreSQL lookup (a 500).
    response = _through(RequestFactory().get(path))
    assert response.status_code == 400
    assert "U+0000" in response.content.decode()
    if path.startswith("/api/"):
        assert json.loads(response.content)["code"] == "nul_character"


# --- lone surrogates (JSON escapes UTF-8 cannot encode) -----------------------------------------
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"occupation_codes": ["\\ud800"]}', "occupation_codes[0]"),
        ('{"actor": {"account": {"name": "x\\uDC00"}}}', "actor.account.name"),
        ('{"a": {"\\ud800": 1}}', "a.\\ud800"),
        ('"\\udfff"', "(body)"),
    ],
)
def test_an_api_body_with_a_lone_surrogate_is_a_400_problem_naming_the_property(body, field):
    response = _through(RequestFactory().post("/api/v1/x", body, content_type="application/json"))
    assert response.status_code == 400
    problem = json.loads(response.content)
    assert problem["code"] == "invalid_unicode"
    assert problem["field"] == field
    assert "surrogate" in problem["title"]


@pytest.mark.parametrize(
    "body",
    [
        '{"emoji": "\\ud83d\\ude00"}',  # a pair: one character, 😀
        '{"note": "\\\\ud800"}',  # a backslash and "ud800": text
        '{"broken": "\\ud800',  # not JSON: the view's parser says what is wrong
    ],
)
def test_what_the_surrogate_check_lets_through(body):
    request = RequestFactory().post("/api/v1/x", body, content_type="application/json")
    assert _through(request).content == b"reached the view"


def test_a_multipart_api_body_is_still_readable_by_the_view():
    # The check reads the body before parsing the form, so the view (which signs over the raw
    # body) can read it again; it used to raise RawPostDataException there: a 500.
    body = b'--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--b--\r\n'
    request = RequestFactory().post(
        "/api/v1/learners", body, content_type="multipart/form-data; boundary=b"
    )
    seen = NulCharacterMiddleware(lambda r: HttpResponse(r.body))(request)
    assert seen.content == body


def test_a_form_nul_is_still_found_in_a_multipart_api_body():
    body = b'--b\r\nContent-Disposition: form-data; name="name"\r\n\r\na\x00b\r\n--b--\r\n'
    request = RequestFactory().post(
        "/api/v1/learners", body, content_type="multipart/form-data; boundary=b"
    )
    response = _through(request)
    assert response.status_code == 400
    assert json.loads(response.content)["field"] == "name"


def test_a_truncated_multipart_api_body_is_left_to_the_view():
    body = b'--b\r\nContent-Disposition: form-data; name="na'
    request = RequestFactory().post(
        "/api/v1/learners", body, content_type="multipart/form-data; boundary=b"
    )
    assert _through(request).content == b"reached the view"
