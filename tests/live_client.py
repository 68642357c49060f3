"""A small JSON client over real HTTP (urllib), for tests against a live server."""

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LiveResponse:
    status_code: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def content(self) -> bytes:
        return self.body

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class LiveClient:
    base_url: str
    token: str | None = None
    timeout_s: float = 30.0

    def request(
        self,
        method: str,
        path: str,
        data: Any = None,
        params: dict | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ):
        url = self.base_url.rstrip("/") + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        headers = {"Accept": "application/json"}
        body = raw
        if data is not None:
            body = json.dumps(data).encode()
        if body is not None:
            headers["Content-Type"] = content_type
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return LiveResponse(response.status, response.read(), dict(response.headers))
        except urllib.error.HTTPError as error:
            return LiveResponse(error.code, error.read(), dict(error.headers))

    def get(self, path: str, params: dict | None = None) -> LiveResponse:
        return self.request("GET", path, params=params)

    def post(self, path: str, data: Any = None, format: str = "json") -> LiveResponse:  # noqa: A002
        return self.request("POST", path, data=data)

    def post_raw(self, path: str, body: bytes, content_type: str) -> LiveResponse:
        return self.request("POST", path, raw=body, content_type=content_type)

    def patch(self, path: str, data: Any = None, format: str = "json") -> LiveResponse:  # noqa: A002
        return self.request("PATCH", path, data=data)

    def login(self, username: str, password: str) -> "LiveClient":
        response = self.post("/api/auth/token", {"username": username, "password": password})
        assert response.status_code == 200, response.body
        return LiveClient(self.base_url, token=response.json()["token"])
