import pytest

from events.ssrf import UnsafeURL, address_allowed, parse_url


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "100.127.255.254",
        "0.0.0.0",
        "224.0.0.251",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:10.0.0.1",
        "::ffff:127.0.0.1",
        "64:ff9b::7f00:1",
        "64:ff9b::a9fe:a9fe",
        "2002:7f00:1::",
    ],
)
def test_non_public_addresses_are_refused(settings, address):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    assert address_allowed(address) is False


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(settings, address):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    assert address_allowed(address) is True


def test_the_allow_list_opens_a_network_and_only_that(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    assert address_allowed("127.0.0.1") is True
    assert address_allowed("::ffff:127.0.0.1") is True
    assert address_allowed("10.0.0.1") is False


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "gopher://x/", "http://", "http://user:pw@example.com/"]
)
def test_only_plain_http_urls_parse(url):
    with pytest.raises(UnsafeURL):
        parse_url(url)
