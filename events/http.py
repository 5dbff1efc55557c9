"""One webhook POST to a checked, pinned address: no redirects, a hard timeout, the response
read only up to an excerpt."""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass

import urllib3
from django.conf import settings

from .ssrf import UnsafeURL, resolve_checked

EXCERPT_BYTES = 1024


@dataclass
class SendResult:
    http_status: int | None
    latency_ms: int
    excerpt: str
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.http_status is not None and 200 <= self.http_status < 300


def _pool(target, address: str, timeout: urllib3.Timeout):
    common = dict(host=address, port=target.port, timeout=timeout, retries=False, maxsize=1)
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            **common,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs=ssl.CERT_REQUIRED,
        )
    return urllib3.HTTPConnectionPool(**common)


def post(url: str, *, body: bytes, headers: dict) -> SendResult:
    """Resolve and check the host now, connect to the checked address (Host header and SNI
    carry the name), POST, never follow a redirect."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = resolve_checked(url)
    except UnsafeURL as exc:
        return SendResult(None, elapsed(), "", f"refused: {exc}"[:500])
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if ":" not in target.host else f"[{target.host}]"
    if target.port != default_port:
        host_header += f":{target.port}"
    all_headers = {
        **headers,
        "Host": host_header,
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": settings.WEBHOOK_USER_AGENT,
        "Connection": "close",
    }
    timeout = urllib3.Timeout(total=settings.WEBHOOK_TIMEOUT_SECONDS)
    last_error = "no address"
    for address in target.addresses:
        pool = _pool(target, address, timeout)
        try:
            response = pool.urlopen(
                "POST",
                target.path,
                body=body,
                headers=all_headers,
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
            try:
                excerpt = response.read(EXCERPT_BYTES, decode_content=False)
            finally:
                response.release_conn()
            text = excerpt.decode("utf-8", errors="replace")[:EXCERPT_BYTES]
            error = None
            if 300 <= response.status < 400:
                error = f"redirect to {response.headers.get('Location', '?')!s:.200} not followed"
            return SendResult(response.status, elapsed(), text, error)
        except urllib3.exceptions.NewConnectionError as exc:
            last_error = f"connection failed: {exc.__class__.__name__}"
            continue  # the next checked address
        except urllib3.exceptions.HTTPError as exc:
            return SendResult(None, elapsed(), "", f"{exc.__class__.__name__}: {exc}"[:500])
        except OSError as exc:
            return SendResult(None, elapsed(), "", f"{exc.__class__.__name__}: {exc}"[:500])
        finally:
            pool.close()
    return SendResult(None, elapsed(), "", last_error[:500])
