"""Running Bousla at production scale: replicas behind nginx, deployment files, and the
throw-away PostgreSQL and Redis servers that the load benchmark and the fault tests use.

- `bot.ops.scale.nginx`: the load balancer's configuration, rendered from the settings;
- `bot.ops.scale.systemd`: systemd units for real hosts, from the same service definitions
  as `bousla run --replicas N` (`bot.ops.run`);
- `bot.ops.scale.cli`: `bousla deploy ...` and `bousla serve ...`;
- `bot.ops.scale.private`: private PostgreSQL clusters and Redis servers on free ports.
"""
