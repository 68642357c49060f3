"""Container healthcheck for the app service: GET /api/health on the local gunicorn.

The request carries the first ALLOWED_HOSTS name as its Host and X-Forwarded-Proto:
https, as the TLS-terminating proxy would send it, so neither the host check nor the
https redirect gets in the way. Exits 0 when the app answers 200.
"""

import os
import sys
import urllib.request

PORT = os.environ.get("PORT", "8000")


def main() -> int:
    hosts = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    host = next((h.lstrip(".") for h in hosts if h != "*"), "localhost")
    request = urllib.request.Request(
        f"http://127.0.0.1:{PORT}/api/health",
        headers={"Host": host, "X-Forwarded-Proto": "https"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return 0 if response.status == 200 else 1
    except OSError as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
