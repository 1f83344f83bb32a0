# SPDX-License-Identifier: GPL-3.0-or-later
"""A remote user's client for a deployed notebook server: TLS, the login form, the REST API and
the kernel websocket, with nothing from Jupyter's own client libraries."""

from __future__ import annotations

import json
import ssl
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
import websocket


@dataclass
class Execution:
    stdout: str = ""
    stderr: str = ""
    error: str = ""
    status: str = ""
    messages: list = field(default_factory=list)


class NotebookClient:
    def __init__(self, base_url: str, ca_file: str | None, timeout: float = 30.0,
                 client_cert: tuple[str, str] | None = None):
        self.base_url = base_url.rstrip("/") + "/"
        self.ca_file = ca_file
        self.timeout = timeout
        # (certificate, key) to present to a server that asks for client certificates.
        self.client_cert = client_cert
        self.session = requests.Session()
        # Else REQUESTS_CA_BUNDLE from the environment silently replaces `verify`.
        self.session.trust_env = False
        self.session.verify = ca_file if ca_file else False
        self.session.cert = client_cert

    # -- HTTP -------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        return self.base_url + path.lstrip("/")

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(self.url(path), timeout=self.timeout, allow_redirects=False, **kwargs)

    def xsrf(self) -> str:
        token = self.session.cookies.get("_xsrf")
        if not token:
            self.get("login")
            token = self.session.cookies.get("_xsrf")
        assert token, "the login page set no _xsrf cookie"
        return token

    def login(self, password: str, next_path: str | None = None) -> requests.Response:
        xsrf = self.xsrf()
        params = {"next": next_path} if next_path else None
        return self.session.post(
            self.url("login"),
            params=params,
            data={"password": password, "_xsrf": xsrf},
            allow_redirects=False,
            timeout=self.timeout,
        )

    def api(self, method: str, path: str, xsrf: bool = True, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if xsrf:
            headers["X-XSRFToken"] = self.xsrf()
        return self.session.request(
            method, self.url(path), headers=headers, timeout=self.timeout, allow_redirects=False, **kwargs
        )

    def wait_until_up(self, timeout: float = 90.0) -> float:
        """Poll GET /api until it answers 200; return the seconds it took. The default bound only
        catches "never": under make test's load (three lanes of two hosts on two cores) a start
        that takes 3 s alone has taken over 30 s."""
        start = time.monotonic()
        while True:
            try:
                if self.get("api").status_code == 200:
                    return time.monotonic() - start
            except requests.RequestException:
                pass
            if time.monotonic() - start > timeout:
                raise TimeoutError(f"{self.base_url}api did not answer within {timeout} s")
            time.sleep(0.2)

    # -- kernels ----------------------------------------------------------------------------
    def start_kernel(self, name: str = "python3") -> str:
        response = self.api("POST", "api/kernels", json={"name": name})
        assert response.status_code == 201, f"POST /api/kernels: {response.status_code} {response.text[:300]}"
        return response.json()["id"]

    def delete_kernel(self, kernel_id: str) -> int:
        return self.api("DELETE", f"api/kernels/{kernel_id}").status_code

    def execute(self, kernel_id: str, code: str, timeout: float = 60.0) -> Execution:
        parts = urlsplit(self.base_url)
        ws_url = f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}{parts.path}api/kernels/{kernel_id}/channels"
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.session.cookies)
        sslopt = {"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": self.ca_file} if self.ca_file else {"cert_reqs": ssl.CERT_NONE}
        if self.client_cert:
            sslopt.update(certfile=self.client_cert[0], keyfile=self.client_cert[1])
        ws = websocket.create_connection(ws_url, cookie=cookie, sslopt=sslopt, timeout=timeout)
        session_id = uuid.uuid4().hex
        msg_id = uuid.uuid4().hex
        ws.send(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "username": "nbops-test",
                        "session": session_id,
                        "msg_type": "execute_request",
                        "version": "5.3",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "content": {
                        "code": code,
                        "silent": False,
                        "store_history": False,
                        "user_expressions": {},
                        "allow_stdin": False,
                        "stop_on_error": True,
                    },
                    "channel": "shell",
                    "buffers": [],
                }
            )
        )
        result = Execution()
        idle = False
        # The server's websocket pings keep a socket timeout from ever firing: keep a deadline.
        deadline = time.monotonic() + timeout
        ws.settimeout(5)
        try:
            # iopub's idle status and shell's execute_reply come on different channels, in
            # either order: the execution is over when both have arrived.
            while not (idle and result.status):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no reply from kernel {kernel_id} within {timeout} s")
                try:
                    message = json.loads(ws.recv())
                except websocket.WebSocketTimeoutException:
                    continue
                content = message.get("content", {})
                if message.get("msg_type") == "status" and content.get("execution_state") in ("restarting", "dead"):
                    # The server says the kernel died (killed, out of memory) and is being replaced.
                    result.error = f"kernel {content['execution_state']}"
                    result.status = "died"
                    break
                if message.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                result.messages.append(message)
                kind = message.get("msg_type") or message["header"]["msg_type"]
                if kind == "stream":
                    if content.get("name") == "stderr":
                        result.stderr += content.get("text", "")
                    else:
                        result.stdout += content.get("text", "")
                elif kind == "error":
                    result.error = f"{content.get('ename')}: {content.get('evalue')}"
                elif kind == "execute_reply":
                    result.status = content.get("status", "")
                elif kind == "status" and content.get("execution_state") == "idle":
                    idle = True
        finally:
            ws.close()
        return result
