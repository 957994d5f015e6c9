"""`bousla deploy ...` (files for real hosts) and `bousla serve ...` (one process, as the
systemd units run it). Both use the definitions of `bousla run` (`bot.ops.run`)."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from bot import PROJECT_ROOT
from bot.ops.scale.nginx import NginxConfig, PublicServer, find_nginx, local_config
from bot.ops.scale.systemd import EXAMPLE, EXAMPLE_ENVIRONMENT, HostLayout, write
from bot.settings import Settings, get_settings

DEPLOY_DIR = PROJECT_ROOT / "deploy"


# ---------------------------------------------------------------- nginx for a host


def host_nginx_config(
    settings: Settings,
    *,
    replicas: int,
    upstream_hosts: list[str] | None = None,
    public: PublicServer | None = None,
) -> NginxConfig:
    """The load balancer of a host: the same template as `bousla run --replicas N`, plus
    TLS and, when scaling out, the Rasa replicas of several hosts."""
    from bot.ops.run import nginx_state_dir, replica_ports

    return local_config(
        host=settings.host,
        rasa_port=settings.rasa_port,
        actions_port=settings.actions_port,
        rasa_ports=replica_ports(settings.rasa_port, replicas),
        action_ports=replica_ports(settings.actions_port, replicas),
        state_dir=nginx_state_dir(settings),
        upstream_hosts=upstream_hosts,
        public=public,
    )


def _public(args: argparse.Namespace) -> PublicServer | None:
    if not args.server_name:
        return None
    if not (args.tls_certificate and args.tls_key):
        raise SystemExit("Bousla: --server-name needs --tls-certificate and --tls-key.")
    return PublicServer(args.server_name, args.tls_certificate, args.tls_key)


def _hosts(value: str | None) -> list[str]:
    return [host.strip() for host in (value or "").split(",") if host.strip()]


def write_example(out: Path = DEPLOY_DIR) -> list[Path]:
    """deploy/: the example host (systemd units, environment file, nginx configuration)."""
    written = write(EXAMPLE, out / "systemd")
    saved = {name: os.environ.get(name) for name in EXAMPLE_ENVIRONMENT}
    os.environ.update(EXAMPLE_ENVIRONMENT)
    get_settings.cache_clear()
    try:
        config = host_nginx_config(
            get_settings(),
            replicas=EXAMPLE.replicas,
            public=PublicServer(EXAMPLE.server_name, EXAMPLE.tls_certificate, EXAMPLE.tls_key),
        )
        path = out / "nginx" / "nginx.conf"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(config.render(), encoding="utf-8")
        written.append(path)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()
    return written


# ---------------------------------------------------------------- serve


def serve_command(args: argparse.Namespace, settings: Settings) -> list[str]:
    """The command line of one process, exactly as `bousla run --replicas N` builds it."""
    from bot.ops.run import actions_command, dashboard_command, rasa_command

    if args.process == "rasa":
        from bot.ops.training import model_path

        model = model_path()
        if not model.exists():
            raise SystemExit(
                f"Bousla: no trained model for the current data in {model.parent}; "
                "run `bousla train` (as the service user) first."
            )
        return rasa_command(settings, str(model), settings.rasa_port + args.replica)
    if args.process == "actions":
        return actions_command(settings.actions_port + args.replica)
    if args.process == "dashboard":
        return dashboard_command(settings)
    nginx = find_nginx()
    if nginx is None:
        raise SystemExit("Bousla: nginx is not installed (apt-get install -y nginx).")
    from bot.ops.scale.nginx import check_config, command

    config = host_nginx_config(
        settings, replicas=args.replicas, upstream_hosts=_hosts(args.upstream_hosts),
        public=_public(args),
    )  # fmt: skip
    path = config.write(config.state_dir / "nginx.conf")
    problem = check_config(nginx, path, config.state_dir)
    if problem:
        raise SystemExit(f"Bousla: nginx refuses {path}: {problem}")
    return command(nginx, path, config.state_dir)


def serve(args: argparse.Namespace) -> int:
    from bot.ops.run import child_environment

    settings = get_settings()
    command = serve_command(args, settings)
    if args.print:
        print(shlex.join(command))
        return 0
    os.chdir(PROJECT_ROOT)
    sys.stdout.flush()
    os.execvpe(command[0], command, child_environment(settings))
    return 0  # not reached


def migrate(_: argparse.Namespace) -> int:
    from bot.storage.db import DatabaseUnavailable, upgrade_database

    try:
        upgrade_database()
    except DatabaseUnavailable as error:
        raise SystemExit(f"Bousla: {error}") from None
    print("Database up to date.")
    return 0


# ---------------------------------------------------------------- wiring


def _nginx_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--replicas", type=int, default=2, metavar="N")
    parser.add_argument(
        "--upstream-hosts",
        metavar="HOST,HOST",
        help="scaling out: the hosts whose Rasa replicas this nginx spreads the load over",
    )
    parser.add_argument("--server-name", help="public name for TLS, e.g. bousla.example.ma")
    parser.add_argument("--tls-certificate", help="certificate chain (PEM), e.g. certbot's")
    parser.add_argument("--tls-key", help="private key (PEM)")


def register(subparsers: argparse._SubParsersAction) -> None:
    deploy = subparsers.add_parser("deploy", help="files and steps for running on real hosts")
    deploy_commands = deploy.add_subparsers(dest="deploy", metavar="WHAT")

    systemd = deploy_commands.add_parser("systemd", help="write systemd units for this host")
    _nginx_options(systemd)
    systemd.add_argument("--prefix", default=EXAMPLE.prefix, help="the checkout (with .venv/)")
    systemd.add_argument("--user", default=EXAMPLE.user)
    systemd.add_argument("--env-file", default=EXAMPLE.env_file)
    systemd.add_argument("--state-dir", default=EXAMPLE.state_dir, help="BOUSLA_VAR_DIR")
    systemd.add_argument("--out", type=Path, required=True, help="where to write the units")

    def write_units(args: argparse.Namespace) -> int:
        layout = HostLayout(
            replicas=args.replicas, prefix=args.prefix, user=args.user, env_file=args.env_file,
            state_dir=args.state_dir, server_name=args.server_name,
            tls_certificate=args.tls_certificate, tls_key=args.tls_key,
            upstream_hosts=_hosts(args.upstream_hosts),
        )  # fmt: skip
        _public(args)  # same checks as `serve nginx`
        for path in write(layout, args.out):
            print(path)
        return 0

    systemd.set_defaults(handler=write_units)

    nginx = deploy_commands.add_parser("nginx", help="print the nginx configuration of this host")
    _nginx_options(nginx)
    nginx.set_defaults(
        handler=lambda args: print(
            host_nginx_config(
                get_settings(), replicas=args.replicas,
                upstream_hosts=_hosts(args.upstream_hosts), public=_public(args),
            ).render(),
            end="",
        )
    )  # fmt: skip

    example = deploy_commands.add_parser("example", help="regenerate deploy/ (the example host)")
    example.set_defaults(handler=lambda args: [print(p) for p in write_example()] and 0)

    migrate_parser = deploy_commands.add_parser("migrate", help="apply database migrations")
    migrate_parser.set_defaults(handler=migrate)
    deploy.set_defaults(handler=lambda args: deploy.print_help() or 2)

    serve_parser = subparsers.add_parser(
        "serve", help="run one Bousla process in the foreground (what the systemd units run)"
    )
    serve_parser.add_argument("process", choices=["rasa", "actions", "dashboard", "nginx"])
    serve_parser.add_argument(
        "--replica", type=int, default=1, metavar="I", help="rasa/actions: listen on PORT + I"
    )
    _nginx_options(serve_parser)
    serve_parser.add_argument("--print", action="store_true", help="print the command, run nothing")
    serve_parser.set_defaults(handler=serve)
