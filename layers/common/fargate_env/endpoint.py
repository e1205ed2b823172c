"""Proof that the page answers: a real HTTP request to the load balancer's DNS name.

A new load balancer's DNS name can take a little while to resolve after it is active, so the
check retries within a bound before it gives up.
"""

from __future__ import annotations

import http.client
import ssl
import urllib.error
import urllib.request
from typing import Any, Final

from fargate_env import clock
from fargate_env.errors import EndpointCheckFailed

REQUEST_TIMEOUT_SECONDS: Final = 5.0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Report a redirect as the answer instead of following it off the load balancer."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _opener(url: str) -> urllib.request.OpenerDirector:
    handlers: list[Any] = [_NoRedirect()]
    if url.startswith("https://"):
        # The certificate names the user's domain, not the load balancer's DNS name: this is a
        # liveness check of the listener, not a check of the certificate.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        handlers.append(urllib.request.HTTPSHandler(context=context))
    return urllib.request.build_opener(*handlers)


def _get(url: str) -> tuple[int | None, str]:
    """Status code (None when nothing answered) and a short description."""
    request = urllib.request.Request(url, headers={"User-Agent": "fargate-env-verify/1"})
    try:
        with _opener(url).open(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
            response.read(65536)
            return int(response.status), "ok"
    except urllib.error.HTTPError as exc:
        return int(exc.code), str(exc.reason)
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        return None, f"{type(exc).__name__}: {reason}"


def verify(url: str, attempts: int = 12, pause_seconds: float = 5.0) -> dict[str, Any]:
    """GET `url` until it answers 2xx/3xx, at most `attempts` times."""
    last = "not tried"
    for attempt in range(1, attempts + 1):
        started = clock.monotonic()
        status, detail = _get(url)
        latency_ms = round((clock.monotonic() - started) * 1000, 1)
        if status is not None and 200 <= status < 400:
            return {"url": url, "status": status, "latency_ms": latency_ms, "attempts": attempt}
        last = f"HTTP {status} ({detail})" if status is not None else detail
        if attempt < attempts:
            clock.sleep(pause_seconds)
    raise EndpointCheckFailed(f"{url} did not answer 2xx/3xx after {attempts} attempts: {last}")


def verify_all(urls: list[str]) -> dict[str, Any]:
    """Verify every load balancer's URL; the first one that does not answer fails the step."""
    checks = [verify(url) for url in urls]
    return {"checks": checks, "url": checks[0]["url"] if checks else None}
