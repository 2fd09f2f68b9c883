"""Order numbers, shop ids, OAuth codes, states and HMACs stay out of every log we write or configure."""

import re
from pathlib import Path

from django.conf import settings

from apps.platforms.throttle import RedisThrottle
from kitty_troubleshoot.logfilters import path_for_log

REPO = Path(settings.BASE_DIR)
CALLBACK = "/account/oauth/shopify/callback/?code=c0de-5ecret&hmac=ab12cd34&state=st4te-t0ken&shop=kitty.myshopify.com"


def test_order_numbers_and_shop_ids_in_platform_paths_are_left_out():
    assert path_for_log("/sell/fulfillment/v1/order/12-34567-89012") == "/sell/fulfillment/v1/order/{id}"
    assert (
        path_for_log("/orders/v0/orders/902-3159896-1390916/orderItems")
        == "/orders/v0/orders/{id}/orderItems"
    )
    assert (
        path_for_log("/v3/application/shops/5512/receipts/1093?x=1")
        == "/v3/application/shops/{id}/receipts/{id}"
    )
    assert path_for_log("/admin/api/2024-01/graphql.json") == "/admin/api/2024-01/graphql.json"
    assert path_for_log("/wp-json/wc/v3/orders") == "/wp-json/wc/v3/orders"


def test_gunicorn_logs_the_path_of_an_oauth_callback_without_its_query():
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    namespace: dict = {}
    exec((REPO / "gunicorn.conf.py").read_text(), namespace)
    config = Config()
    config.set("accesslog", "-")
    config.set("access_log_format", namespace["access_log_format"])
    path, query = CALLBACK.split("?")

    request = type("Request", (), {"method": "GET", "uri": CALLBACK, "path": path, "query": query})()
    request.version, request.headers = (1, 1), []
    response = type("Response", (), {"status": "302 Found", "sent": 0, "headers": [], "response_length": 0})()

    environ = {
        "REMOTE_ADDR": "10.0.0.1",
        "REQUEST_METHOD": "GET",
        "RAW_URI": CALLBACK,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": "https://kitty.myshopify.com/admin?hmac=ab12cd34",
    }
    from datetime import timedelta

    atoms = Logger(config).atoms(response, request, environ, timedelta(seconds=0.01))
    line = namespace["access_log_format"] % atoms

    assert path in line
    for secret in ("c0de-5ecret", "ab12cd34", "st4te-t0ken", "kitty.myshopify.com"):
        assert secret not in line


def test_nginx_logs_paths_only():
    template = (REPO / "deploy" / "nginx" / "kitty.conf.template").read_text()
    formats = re.findall(r"^log_format\s+(\S+)\s+'([^;]*)';", template, flags=re.M)
    assert formats, "the front declares its own access log format"
    for _name, fmt in formats:
        assert "$uri" in fmt
        for leaky in (
            "$request ",
            '$request"',
            "$request_uri",
            "$args",
            "$query_string",
            "$http_referer",
            "$arg_",
        ):
            assert leaky not in fmt
    uses = re.findall(r"^\s*access_log\s+([^;]+);", template, flags=re.M)
    assert uses == ["${KITTY_ACCESS_LOG}"]
    compose = (REPO / "docker-compose.yml").read_text()
    assert "KITTY_ACCESS_LOG: /dev/stdout kitty_paths" in compose


def test_throttle_keys_carry_the_cache_key_prefix(settings, redis_url):
    import redis

    settings.CACHE_KEY_PREFIX = "kt-prefix-test"
    bucket = RedisThrottle("plugin:990001", rate=1, burst=1, url=redis_url)
    bucket.acquire()
    bucket.block_for(5)

    keys = sorted(k.decode() for k in redis.Redis.from_url(redis_url).keys("*plugin:990001*"))
    assert keys == [
        "kt-prefix-test:throttle:{plugin:990001}:block",
        "kt-prefix-test:throttle:{plugin:990001}:tokens",
    ]
