"""nginx in front of the Rasa replicas and the action servers, configured from the settings.

`bousla run --replicas N` writes the configuration to `var/nginx/nginx.conf` and runs
Debian's nginx in the foreground as one more managed process (its pid, logs and temporary
files under `var/nginx/`; no system-wide file is read or written). `bousla deploy render`
uses the same template for real hosts, optionally with TLS.

Layout on one machine (`bot.ops.run.replica_ports`): nginx listens on `RASA_PORT` (webhooks,
REST, Rasa's HTTP API) and `ACTIONS_PORT` (Rasa's calls to the actions); replica i of the
Rasa server listens on `RASA_PORT + i`, of the action server on `ACTIONS_PORT + i`.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMP_KINDS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


@dataclass(frozen=True)
class PublicServer:
    """The TLS front of a real host: `https://server_name`, certificates from e.g. certbot."""

    server_name: str
    tls_certificate: str
    tls_key: str
    acme_root: str = "/var/www/letsencrypt"
    https_listen: str = "443 ssl http2"
    http_listen: str = "80"
    # The web chat on the public name too (rate-limited); off unless asked for.
    webchat: bool = False


@dataclass(frozen=True)
class NginxConfig:
    state_dir: Path  # pid file and temporary files
    log_dir: Path
    listen: str  # host:port of the webhooks (and REST, Rasa's HTTP API)
    actions_listen: str  # host:port where Rasa finds the action servers
    rasa_upstreams: list[str]
    action_upstreams: list[str]
    foreground: bool = True
    worker_processes: str = "auto"
    public: PublicServer | None = None
    # Who may use Rasa's REST channel and HTTP API through nginx (the dashboard, the
    # Bousla hosts); everyone else gets 403 there. Loopback is always allowed.
    internal_clients: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def render(self) -> str:
        environment = Environment(
            loader=FileSystemLoader(TEMPLATES),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            autoescape=False,  # noqa: S701 - an nginx configuration, not HTML
        )
        servers = [{"listen": [self.listen], "server_name": None, "tls": False, "public": False}]
        redirect = None
        if self.public:
            servers.append(
                {
                    "listen": [self.public.https_listen],
                    "server_name": self.public.server_name,
                    "tls": True,
                    "public": True,
                    "webchat": self.public.webchat,
                    "tls_certificate": self.public.tls_certificate,
                    "tls_key": self.public.tls_key,
                }
            )
            redirect = {
                "server_name": self.public.server_name,
                "acme_root": self.public.acme_root,
                "listen": self.public.http_listen,
            }
        return environment.get_template("nginx.conf.j2").render(
            foreground=self.foreground,
            worker_processes=self.worker_processes,
            state_dir=self.state_dir,
            log_dir=self.log_dir,
            rasa_upstreams=self.rasa_upstreams,
            action_upstreams=self.action_upstreams,
            servers=servers,
            redirect_http=redirect,
            actions_listen=self.actions_listen,
            internal_clients=list(dict.fromkeys(["127.0.0.1", "::1", *self.internal_clients])),
        )

    def write(self, path: Path) -> Path:
        """Write the configuration and create the directories it names."""
        for kind in TEMP_KINDS:
            (self.state_dir / "tmp" / kind).mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.render(), encoding="utf-8")
        return path


def upstream_host(host: str) -> str:
    """Where nginx reaches a process that listens on `host` (all interfaces: loopback)."""
    return "127.0.0.1" if host in ("", "0.0.0.0", "::", "[::]") else host


def local_config(
    *,
    host: str,
    rasa_port: int,
    actions_port: int,
    rasa_ports: list[int],
    action_ports: list[int],
    state_dir: Path,
    upstream_hosts: list[str] | None = None,
    public: PublicServer | None = None,
) -> NginxConfig:
    """The configuration `bousla run --replicas N` uses on one machine; on a host that
    scales out, also the Rasa replicas of `upstream_hosts`, and TLS with `public`."""
    hosts = upstream_hosts or [upstream_host(host)]
    return NginxConfig(
        state_dir=state_dir,
        log_dir=state_dir,
        listen=f"{host}:{rasa_port}",
        actions_listen=f"{host}:{actions_port}",
        rasa_upstreams=[f"{target}:{port}" for target in hosts for port in rasa_ports],
        action_upstreams=[f"127.0.0.1:{port}" for port in action_ports],
        public=public,
        # This host's own address (the dashboard calls Rasa there) and the Rasa hosts.
        internal_clients=[
            address
            for address in (upstream_host(host), *(upstream_hosts or []))
            if _is_address(address)
        ],  # fmt: skip
    )


def _is_address(text: str) -> bool:
    """nginx's `allow` takes addresses, not names."""
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


def find_nginx() -> str | None:
    """Debian's nginx (`apt-get install -y nginx`), on the PATH or in /usr/sbin; or the
    one BOUSLA_NGINX names (empty or not executable: none)."""
    if "BOUSLA_NGINX" in os.environ:
        chosen = os.environ["BOUSLA_NGINX"]
        return chosen if chosen and os.access(chosen, os.X_OK) else None
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None


def command(nginx: str, config_path: Path, state_dir: Path) -> list[str]:
    """nginx in the foreground (the configuration says `daemon off`), errors to our log."""
    return [nginx, "-p", str(state_dir), "-c", str(config_path), "-e",
            str(state_dir / "error.log")]  # fmt: skip


def check_config(nginx: str, config_path: Path, state_dir: Path) -> str | None:
    """None when nginx accepts the configuration, else nginx's own complaint."""
    result = subprocess.run(
        [*command(nginx, config_path, state_dir), "-t", "-q"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if result.returncode == 0:
        return None
    return (result.stderr or result.stdout).strip()
