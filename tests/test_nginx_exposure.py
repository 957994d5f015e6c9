"""Debian's nginx with Bousla's generated configuration, in front of a stand-in replica:
only the providers' webhooks are public; Rasa's REST channel and HTTP API are refused from
anywhere but the Bousla hosts, and on the public (TLS) name from everywhere."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from bot.ops.localstack import free_port
from bot.ops.scale.nginx import NginxConfig, PublicServer, command, find_nginx, local_config
from tests.system_deps import require_system

pytestmark = require_system("nginx", "openssl")

OUTSIDE = "127.0.0.2"  # a client address that is not this host's (Linux answers all 127/8)
REFUSED_PATHS = [
    ("POST", "/webhooks/rest/webhook"),
    ("POST", "/model/parse"),
    ("GET", "/conversations/whatsapp-1234/tracker"),
    ("POST", "/conversations/whatsapp-1234/tracker/events"),
    ("GET", "/status"),
]
PROVIDER_PATHS = ["/webhooks/whatsapp/webhook", "/webhooks/telegram/webhook"]


class Replica(BaseHTTPRequestHandler):
    """Answers every request with its path: what reached "Rasa"."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = json.dumps({"reached": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def replica():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Replica)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def start_nginx(config: NginxConfig, ports: list[int]):
    path = config.write(config.state_dir / "nginx.conf")
    process = subprocess.Popen(
        command(find_nginx(), path, config.state_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode())
        try:
            for port in ports:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.05)
    process.terminate()
    raise AssertionError("nginx did not start")


@pytest.fixture(scope="module")
def local_front(replica, tmp_path_factory):
    """What `bousla run --replicas N` runs on one host."""
    rasa_port, actions_port = free_port(), free_port()
    config = local_config(
        host="127.0.0.1", rasa_port=rasa_port, actions_port=actions_port,
        rasa_ports=[], action_ports=[], state_dir=tmp_path_factory.mktemp("nginx"),
    )  # fmt: skip
    config = NginxConfig(**{**config.__dict__, "rasa_upstreams": [replica],
                            "action_upstreams": [replica]})  # fmt: skip
    process = start_nginx(config, [rasa_port])
    yield rasa_port, actions_port
    process.terminate()
    process.wait(10)


def client(source: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=10)


@pytest.mark.parametrize(("method", "path"), REFUSED_PATHS)
def test_rasa_rest_and_http_api_are_refused_from_outside(local_front, method, path):
    rasa_port, _ = local_front
    with client(OUTSIDE) as outsider:
        response = outsider.request(method, f"http://127.0.0.1:{rasa_port}{path}", json={})
    assert response.status_code == 403, response.text
    assert "reached" not in response.text


def test_provider_webhooks_work_from_outside(local_front):
    rasa_port, _ = local_front
    with client(OUTSIDE) as outsider:
        for path in PROVIDER_PATHS:
            response = outsider.post(f"http://127.0.0.1:{rasa_port}{path}", data={"Body": "salam"})
            assert response.status_code == 200 and response.json() == {"reached": path}


def test_the_dashboard_on_this_host_still_reaches_rasa_api(local_front):
    rasa_port, _ = local_front
    with client("127.0.0.1") as local:
        response = local.post(f"http://127.0.0.1:{rasa_port}/conversations/p/tracker/events")
    assert response.json() == {"reached": "/conversations/p/tracker/events"}


def test_the_action_servers_are_refused_from_outside(local_front):
    _, actions_port = local_front
    with client(OUTSIDE) as outsider:
        response = outsider.post(f"http://127.0.0.1:{actions_port}/webhook", json={})
    assert response.status_code == 403


def self_signed(state) -> tuple[str, str]:
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to test the TLS front (apt-get install openssl)")
    certificate, key = state / "cert.pem", state / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=bousla.example.ma", "-keyout", str(key), "-out", str(certificate)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return str(certificate), str(key)


def test_a_public_web_chat_is_rate_limited_per_address(replica, tmp_path):
    certificate, key = self_signed(tmp_path)
    https_port, rasa_port = free_port(), free_port()
    config = NginxConfig(
        state_dir=tmp_path, log_dir=tmp_path, listen=f"127.0.0.1:{rasa_port}",
        actions_listen=f"127.0.0.1:{free_port()}", rasa_upstreams=[replica],
        action_upstreams=[replica],
        public=PublicServer("bousla.example.ma", certificate, key, webchat=True,
                            https_listen=f"127.0.0.1:{https_port} ssl",
                            http_listen=f"127.0.0.1:{free_port()}"),
    )  # fmt: skip
    process = start_nginx(config, [rasa_port])
    try:
        url = f"https://127.0.0.1:{https_port}/webhooks/webchat/webhook"
        with httpx.Client(verify=False, timeout=10) as browser:  # noqa: S501 - self-signed
            statuses = [
                browser.post(url, headers={"Host": "bousla.example.ma"}, json={}).status_code
                for _ in range(40)
            ]
    finally:
        process.terminate()
        process.wait(10)
    assert statuses[:20] == [200] * 20  # a burst of a person typing fast goes through
    assert 429 in statuses[21:]  # a script posting as fast as it can does not


@pytest.fixture(scope="module")
def public_front(replica, tmp_path_factory):
    """The TLS front of a real host (`bousla deploy systemd --server-name ...`)."""
    state = tmp_path_factory.mktemp("public")
    certificate, key = self_signed(state)
    https_port, http_port, rasa_port = free_port(), free_port(), free_port()
    config = NginxConfig(
        state_dir=state, log_dir=state, listen=f"127.0.0.1:{rasa_port}",
        actions_listen=f"127.0.0.1:{free_port()}", rasa_upstreams=[replica],
        action_upstreams=[replica],
        public=PublicServer("bousla.example.ma", certificate, key,
                            https_listen=f"127.0.0.1:{https_port} ssl",
                            http_listen=f"127.0.0.1:{http_port}"),
    )  # fmt: skip
    process = start_nginx(config, [rasa_port])
    yield https_port
    process.terminate()
    process.wait(10)


def test_the_public_name_serves_only_the_provider_webhooks(public_front):
    url = f"https://127.0.0.1:{public_front}"
    headers = {"Host": "bousla.example.ma"}
    with httpx.Client(verify=False, timeout=10) as anyone:  # noqa: S501 - self-signed
        for method, path in [*REFUSED_PATHS, ("POST", "/webhooks/webchat/webhook")]:
            response = anyone.request(method, url + path, headers=headers, json={})
            assert response.status_code == 404, (path, response.text)
        for path in PROVIDER_PATHS:
            response = anyone.post(url + path, headers=headers, data={"Body": "salam"})
            assert response.json() == {"reached": path}
