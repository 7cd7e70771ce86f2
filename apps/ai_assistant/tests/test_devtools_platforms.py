"""The platform stand-in speaks each platform's protocol, records sends and injects faults."""

import json
import time

import httpx
import pytest

from devtools.platforms import (
    MAX_UPLOADS,
    PlatformServer,
    PlatformState,
    parse_multipart,
    start_platforms,
)

APPS = [
    {"platform": "wechat", "app_id": "wx-test", "secret": "wechat-secret"},
    {"platform": "wecom", "app_id": "corp-test", "secret": "wecom-secret", "agent_id": "1000002"},
    {"platform": "dingtalk", "app_id": "ding-test", "secret": "dingtalk-secret"},
    {"platform": "telegram", "app_id": "test_bot", "secret": "123456:TEST-token"},
]


@pytest.fixture(scope="module")
def platforms():
    server, base_url = start_platforms(port=0, apps=APPS)
    yield server
    server.stop()


@pytest.fixture
def client(platforms):
    platforms.state.reset()
    with httpx.Client(base_url=platforms.base_url, timeout=3) as http:
        yield http


# One token fetch and one text send per platform, in that platform's wire format.
def wechat_token(http):
    response = http.post(
        "/cgi-bin/stable_token",
        json={
            "grant_type": "client_credential",
            "appid": "wx-test",
            "secret": "wechat-secret",
            "force_refresh": False,
        },
    )
    return response.json().get("access_token")


def wechat_send(http, token, text="hello"):
    return http.post(
        "/cgi-bin/message/custom/send",
        params={"access_token": token},
        json={"touser": "openid-1", "msgtype": "text", "text": {"content": text}},
    )


def wecom_token(http):
    response = http.get(
        "/cgi-bin/gettoken", params={"corpid": "corp-test", "corpsecret": "wecom-secret"}
    )
    return response.json().get("access_token")


def wecom_send(http, token, text="hello"):
    return http.post(
        "/cgi-bin/message/send",
        params={"access_token": token},
        json={
            "touser": "zhangsan",
            "agentid": 1000002,
            "msgtype": "text",
            "text": {"content": text},
        },
    )


def dingtalk_token(http):
    response = http.post(
        "/v1.0/oauth2/accessToken", json={"appKey": "ding-test", "appSecret": "dingtalk-secret"}
    )
    return response.json().get("accessToken")


def dingtalk_send(http, token, text="hello"):
    return http.post(
        "/v1.0/robot/oToMessages/batchSend",
        headers={"x-acs-dingtalk-access-token": token},
        json={
            "robotCode": "ding-test",
            "userIds": ["staff-1"],
            "msgKey": "sampleText",
            "msgParam": json.dumps({"content": text}),
        },
    )


def telegram_token(http):
    return "123456:TEST-token"


def telegram_send(http, token, text="hello"):
    return http.post(f"/bot{token}/sendMessage", json={"chat_id": 777, "text": text})


CLIENTS = {
    "wechat": (wechat_token, wechat_send, "wx-test", "openid-1"),
    "wecom": (wecom_token, wecom_send, "corp-test", "zhangsan"),
    "dingtalk": (dingtalk_token, dingtalk_send, "ding-test", "staff-1"),
    "telegram": (telegram_token, telegram_send, "test_bot", "777"),
}
TOKEN_PLATFORMS = ["wechat", "wecom", "dingtalk"]


def is_success(platform, response):
    body = response.json()
    if platform in ("wechat", "wecom"):
        return response.status_code == 200 and body["errcode"] == 0
    if platform == "telegram":
        return body["ok"] is True
    return response.status_code == 200 and "processQueryKey" in body


def is_expired_token_error(platform, response):
    body = response.json()
    if platform in ("wechat", "wecom"):
        return body["errcode"] in (40001, 40014, 42001)
    if platform == "telegram":
        return response.status_code == 401 and body["ok"] is False
    return response.status_code == 401 and body["code"] == "InvalidAuthentication"


@pytest.mark.parametrize("platform", list(CLIENTS))
def test_it_records_an_accepted_send(client, platform):
    get_token, send, app_id, recipient = CLIENTS[platform]
    response = send(client, get_token(client), "库存 12 个")
    assert is_success(platform, response)
    sent = client.get("/_control/sent").json()
    assert [(m["platform"], m["app"], m["recipient"], m["text"]) for m in sent] == [
        (platform, app_id, recipient, "库存 12 个")
    ]


@pytest.mark.parametrize("platform", TOKEN_PLATFORMS)
def test_it_issues_a_token_and_counts_the_request(client, platform):
    get_token, _, app_id, _ = CLIENTS[platform]
    assert get_token(client)
    stats = client.get("/_control/stats").json()
    assert stats["token_requests"] == {f"{platform}:{app_id}": 1}


@pytest.mark.parametrize("platform", TOKEN_PLATFORMS)
def test_it_refuses_an_unknown_or_expired_token(client, platform):
    get_token, send, _, _ = CLIENTS[platform]
    assert is_expired_token_error(platform, send(client, "not-a-token"))
    token = get_token(client)
    assert client.post("/_control/expire", json={"platform": platform}).json() == {"expired": 1}
    assert is_expired_token_error(platform, send(client, token))
    assert client.get("/_control/sent").json() == []


@pytest.mark.parametrize("platform", TOKEN_PLATFORMS)
def test_tokens_expire_after_expires_in(platform):
    app = next(a for a in APPS if a["platform"] == platform)
    server, base_url = start_platforms(apps=[{**app, "expires_in": 1}])
    try:
        with httpx.Client(base_url=base_url, timeout=3) as http:
            get_token, send, _, _ = CLIENTS[platform]
            token = get_token(http)
            assert is_success(platform, send(http, token))
            time.sleep(1.1)
            assert is_expired_token_error(platform, send(http, token))
            fresh = get_token(http)
            assert fresh != token
            assert is_success(platform, send(http, fresh))
    finally:
        server.stop()


def test_telegram_refuses_a_wrong_bot_token(client):
    response = telegram_send(client, "123456:WRONG")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


def test_wechat_classic_token_invalidates_the_previous_one(client):
    params = {"grant_type": "client_credential", "appid": "wx-test", "secret": "wechat-secret"}
    first = client.get("/cgi-bin/token", params=params).json()["access_token"]
    second = client.get("/cgi-bin/token", params=params).json()["access_token"]
    assert first != second
    assert wechat_send(client, first).json()["errcode"] == 40001
    assert wechat_send(client, second).json()["errcode"] == 0


def test_wechat_stable_token_is_reused_until_force_refresh(client):
    first, second = wechat_token(client), wechat_token(client)
    assert first == second
    forced = client.post(
        "/cgi-bin/stable_token",
        json={
            "grant_type": "client_credential",
            "appid": "wx-test",
            "secret": "wechat-secret",
            "force_refresh": True,
        },
    ).json()["access_token"]
    assert forced != first


@pytest.mark.parametrize(
    ("platform", "response_check"),
    [
        ("wechat", lambda r: r.json()["errcode"] == 40125),
        ("wecom", lambda r: r.json()["errcode"] == 40001),
        ("dingtalk", lambda r: r.status_code == 400),
    ],
)
def test_it_refuses_a_wrong_secret(client, platform, response_check):
    requests = {
        "wechat": lambda: client.post(
            "/cgi-bin/stable_token",
            json={"grant_type": "client_credential", "appid": "wx-test", "secret": "nope"},
        ),
        "wecom": lambda: client.get(
            "/cgi-bin/gettoken", params={"corpid": "corp-test", "corpsecret": "nope"}
        ),
        "dingtalk": lambda: client.post(
            "/v1.0/oauth2/accessToken", json={"appKey": "ding-test", "appSecret": "nope"}
        ),
    }
    assert response_check(requests[platform]())


@pytest.mark.parametrize("platform", list(CLIENTS))
def test_rate_limit_fault(client, platform):
    get_token, send, _, _ = CLIENTS[platform]
    token = get_token(client)
    client.post(
        "/_control/faults",
        json={"platform": platform, "kind": "rate_limit", "count": 1, "retry_after": 7},
    )
    limited = send(client, token)
    body = limited.json()
    expected = {
        "wechat": lambda: body["errcode"] == 45009,
        "wecom": lambda: body["errcode"] == 45009,
        "dingtalk": lambda: limited.status_code == 403 and "QpsLimit" in body["code"],
        "telegram": lambda: limited.status_code == 429 and body["parameters"]["retry_after"] == 7,
    }
    assert expected[platform]()
    assert is_success(platform, send(client, token))
    assert len(client.get("/_control/sent").json()) == 1


@pytest.mark.parametrize("platform", list(CLIENTS))
def test_server_error_fault(client, platform):
    get_token, send, _, _ = CLIENTS[platform]
    token = get_token(client)
    client.post("/_control/faults", json={"platform": platform, "kind": "server_error", "count": 2})
    assert send(client, token).status_code >= 500
    assert send(client, token).status_code >= 500
    assert is_success(platform, send(client, token))


@pytest.mark.parametrize("platform", list(CLIENTS))
def test_expired_token_fault(client, platform):
    get_token, send, _, _ = CLIENTS[platform]
    token = get_token(client)
    client.post("/_control/faults", json={"platform": platform, "kind": "expired_token"})
    assert is_expired_token_error(platform, send(client, token))
    if platform != "telegram":
        # The token really is expired now: a fresh one is needed.
        assert is_expired_token_error(platform, send(client, token))
        token = get_token(client)
    assert is_success(platform, send(client, token))


@pytest.mark.parametrize("platform", list(CLIENTS))
def test_timeout_fault(client, platform):
    get_token, send, _, _ = CLIENTS[platform]
    token = get_token(client)
    client.post(
        "/_control/faults",
        json={"platform": platform, "kind": "timeout", "count": 1, "seconds": 1.5},
    )
    impatient = httpx.Client(base_url=str(client.base_url), timeout=0.3)
    with impatient, pytest.raises(httpx.TimeoutException):
        send(impatient, token)
    assert is_success(platform, send(client, token))


@pytest.mark.parametrize("platform", TOKEN_PLATFORMS)
def test_a_token_endpoint_fault_hits_token_requests_only(client, platform):
    get_token, send, _, _ = CLIENTS[platform]
    client.post(
        "/_control/faults",
        json={"platform": platform, "kind": "server_error", "endpoint": "token"},
    )
    assert get_token(client) is None
    token = get_token(client)
    assert is_success(platform, send(client, token))


def test_wecom_truncates_text_over_2048_bytes(client):
    response = wecom_send(client, wecom_token(client), "库" * 1000)
    assert response.json()["errcode"] == 0
    [record] = client.get("/_control/sent").json()
    assert record["truncated"] is True
    assert len(record["text"].encode()) <= 2048


def test_wecom_checks_the_agentid(client):
    response = client.post(
        "/cgi-bin/message/send",
        params={"access_token": wecom_token(client)},
        json={"touser": "a", "agentid": 9, "msgtype": "text", "text": {"content": "x"}},
    )
    assert response.json()["errcode"] == 40056


def test_dingtalk_group_send_needs_a_json_string_msg_param(client):
    token = dingtalk_token(client)
    headers = {"x-acs-dingtalk-access-token": token}
    body = {"robotCode": "ding-test", "openConversationId": "cid-1", "msgKey": "sampleText"}
    bad = client.post(
        "/v1.0/robot/groupMessages/send",
        headers=headers,
        json={**body, "msgParam": {"content": "x"}},
    )
    assert bad.status_code == 400
    good = client.post(
        "/v1.0/robot/groupMessages/send",
        headers=headers,
        json={**body, "msgParam": json.dumps({"content": "群消息"})},
    )
    assert good.status_code == 200
    [record] = client.get("/_control/sent").json()
    assert (record["recipient"], record["text"], record["via"]) == (
        "cid-1",
        "群消息",
        "groupMessages",
    )


def test_dingtalk_session_webhook_is_valid_until_it_expires(client):
    session = client.post(
        "/_control/sessions",
        json={
            "app_id": "ding-test",
            "conversation_id": "cid-9",
            "conversation_type": "2",
            "ttl": 1,
        },
    ).json()
    message = {"msgtype": "text", "text": {"content": "好的"}, "at": {"atUserIds": ["staff-1"]}}
    assert httpx.post(session["url"], json=message).json() == {"errcode": 0, "errmsg": "ok"}
    [record] = client.get("/_control/sent").json()
    assert record["recipient"] == "cid-9"
    assert record["at_user_ids"] == ["staff-1"]
    time.sleep(1.1)
    assert httpx.post(session["url"], json=message).json()["errcode"] == 300001
    assert len(client.get("/_control/sent").json()) == 1


def test_telegram_send_message_limits(client):
    token = telegram_token(client)
    assert telegram_send(client, token, "x" * 4097).status_code == 400
    # 2048 emoji are 4096 UTF-16 units: the longest text Telegram accepts.
    assert telegram_send(client, token, "😀" * 2048).json()["ok"] is True
    assert telegram_send(client, token, "😀" * 2049).status_code == 400
    assert client.post(f"/bot{token}/sendMessage", data={"chat_id": "5", "text": "form"}).json()[
        "ok"
    ]


def test_telegram_set_webhook_and_info(client):
    token = telegram_token(client)
    bad = client.post(f"/bot{token}/setWebhook", json={"url": "http://example.com/hook"})
    assert bad.status_code == 400
    response = client.post(
        f"/bot{token}/setWebhook",
        json={
            "url": "https://erp.example.com/webhooks/telegram/test_bot/",
            "secret_token": "abc_DEF-123",
            "allowed_updates": ["message", "edited_message"],
        },
    )
    assert response.json() == {"ok": True, "result": True, "description": "Webhook was set"}
    info = client.get(f"/bot{token}/getWebhookInfo").json()["result"]
    assert info["url"] == "https://erp.example.com/webhooks/telegram/test_bot/"
    assert info["allowed_updates"] == ["message", "edited_message"]
    assert client.get("/_control/webhooks").json()["test_bot"]["secret_token"] == "abc_DEF-123"


def test_control_api_validates_and_clears(client):
    assert (
        client.post("/_control/faults", json={"platform": "x", "kind": "timeout"}).status_code
        == 400
    )
    assert (
        client.post("/_control/faults", json={"platform": "wechat", "kind": "boom"}).status_code
        == 400
    )
    assert (
        client.post(
            "/_control/faults", json={"platform": "wechat", "kind": "timeout", "seconds": 999}
        ).status_code
        == 400
    )
    telegram_send(client, telegram_token(client))
    assert client.delete("/_control/sent").json() == {"cleared": 1}
    assert client.get("/_control/sent").json() == []
    created = client.post(
        "/_control/apps", json={"platform": "telegram", "app_id": "other_bot", "secret": "9:X"}
    )
    assert created.status_code == 201
    assert "secret" not in created.json()


def test_it_refuses_large_bodies(client):
    response = client.post("/_control/apps", content=b"x" * (1024 * 1024 + 1))
    assert response.status_code == 413


# --- files: multipart uploads, what was received, limits ------------------------------------


def multipart_as_httpx_sends(fields, files):
    """The exact body and Content-Type httpx (the adapters' client) sends."""
    request = httpx.Request("POST", "http://stand-in/upload", data=fields, files=files)
    return request.headers["Content-Type"], request.read()


def test_parse_multipart_reads_what_httpx_sends_including_a_chinese_filename():
    data = b"PK\x03\x04" + bytes(range(256)) * 4 + b"\r\n--not-a-boundary\r\n"
    content_type, body = multipart_as_httpx_sends(
        {"file_type": "xls", "file_name": "销售-2026-12.xlsx"},
        {"file": ("销售-2026-12.xlsx", data, "application/vnd.ms-excel")},
    )
    parts = parse_multipart(content_type, body)
    assert parts["file_type"].text() == "xls" and parts["file_type"].filename is None
    assert parts["file_name"].text() == "销售-2026-12.xlsx"
    assert parts["file"].data == data
    assert parts["file"].filename == "销售-2026-12.xlsx"
    assert parts["file"].content_type == "application/vnd.ms-excel"


def test_parse_multipart_reads_the_wecom_sample_and_an_rfc5987_filename():
    # WeCom's own request sample (media/upload), and a client that sends filename*=.
    body = (
        b"--acebdf13572468\r\n"
        b'Content-Disposition: form-data; name="media";filename="wework.txt"; filelength=6\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
        b"mytext\r\n"
        b"--acebdf13572468\r\n"
        b'Content-Disposition: form-data; name="other"; filename="x.bin"; '
        b"filename*=UTF-8''%E6%8A%A5%E8%A1%A8.xlsx\r\n\r\n"
        b"\x00\x01\r\n"
        b"--acebdf13572468--\r\n"
    )
    parts = parse_multipart("multipart/form-data; boundary=acebdf13572468", body)
    assert (parts["media"].filename, parts["media"].data) == ("wework.txt", b"mytext")
    assert (parts["other"].filename, parts["other"].data) == ("报表.xlsx", b"\x00\x01")


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b"{}"),
        ("multipart/form-data", b"--x\r\n\r\n--x--"),
        ("multipart/form-data; boundary=x", b"--x\r\nno blank line\r\n--x--\r\n"),
        (
            "multipart/form-data; boundary=x",
            b"--x\r\nContent-Disposition: form-data\r\n\r\na\r\n--x--",
        ),
        (
            "multipart/form-data; boundary=x",
            b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\nb",
        ),
    ],
)
def test_parse_multipart_refuses_what_is_not_a_whole_form(content_type, body):
    assert parse_multipart(content_type, body) is None


def test_stored_files_are_listed_fetched_back_byte_for_byte_and_bounded(client, platforms):
    state = platforms.state
    data = bytes(range(256)) * 3
    upload = state.store_upload("wecom", "corp-test", "报表.xlsx", "application/x-test", data)
    state.record_file_sent("wecom", "corp-test", "wh1.zhang", upload, "caption")
    [entry] = client.get("/_control/sent").json()
    assert entry["kind"] == "file" and entry["text"] == "caption"
    assert (entry["filename"], entry["size"], entry["file_id"]) == (
        "报表.xlsx",
        len(data),
        upload.upload_id,
    )
    listed = client.get("/_control/files").json()
    assert [f["sha256"] for f in listed] == [entry["sha256"]]
    fetched = client.get(f"/_control/files/{upload.upload_id}")
    assert fetched.status_code == 200 and fetched.content == data
    assert fetched.headers["Content-Type"] == "application/x-test"
    assert client.get("/_control/files/nope").status_code == 404
    for number in range(MAX_UPLOADS):
        state.store_upload("wecom", "corp-test", f"{number}.bin", "", b"12345")
    assert len(client.get("/_control/files").json()) == MAX_UPLOADS
    assert client.get(f"/_control/files/{upload.upload_id}").status_code == 404
    assert state.find_upload("wecom", upload.upload_id) is None


def test_file_limits_are_set_checked_and_reset(client, platforms):
    answer = client.post("/_control/limits", json={"platform": "wecom", "max_file_bytes": 100})
    assert answer.json() == {"platform": "wecom", "max_file_bytes": 100}
    assert platforms.state.file_limit("wecom", 20) == 100
    assert platforms.state.file_limit("telegram", 20) == 20
    for bad in (
        {"platform": "x", "max_file_bytes": 1},
        {"platform": "wecom", "max_file_bytes": -1},
    ):
        assert client.post("/_control/limits", json=bad).status_code == 400
    client.post("/_control/reset")
    assert platforms.state.file_limit("wecom", 20) == 20


def test_it_binds_loopback_only():
    with pytest.raises(ValueError):
        PlatformServer("0.0.0.0", 0, state=PlatformState())


def test_state_is_thread_safe_under_concurrent_sends(client):
    from concurrent.futures import ThreadPoolExecutor

    token = telegram_token(client)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda i: telegram_send(client, token, f"m{i}").json()["ok"], range(40))
        )
    assert all(results)
    sent = client.get("/_control/sent").json()
    assert sorted(m["text"] for m in sent) == sorted(f"m{i}" for i in range(40))
    assert len({m["message_id"] for m in sent}) == 40
