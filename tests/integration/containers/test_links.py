"""--link on the default bridge (Docker's legacy links): /etc/hosts and the environment of the linked
container, what is recorded, and the refusals."""

from __future__ import annotations

import json


def test_link_hosts_env_and_refusals(sk, name):  # type: ignore[no-untyped-def]
    db, web = f"{name}-db", f"{name}-web"
    sk("run", "-d", "--name", db, "-e", "PASSWORD=x", "--expose", "6379", "busybox", "sleep", "600")
    try:
        ip = sk.out("inspect", "-f", "{{.NetworkSettings.IPAddress}}", db).strip()
        hostname = sk.out("inspect", "-f", "{{.Config.Hostname}}", db).strip()
        out = sk.out("run", "--rm", "--name", web, "--link", f"{db}:dbalias", "busybox", "sh", "-c",
                     "cat /etc/hosts; env; ping -c 1 -W 2 dbalias >/dev/null && echo reached")
        lines = out.splitlines()
        assert f"{ip}\tdbalias {hostname} {db}" in lines
        for var in (f"DBALIAS_PORT=tcp://{ip}:6379", f"DBALIAS_PORT_6379_TCP_ADDR={ip}",
                    f"DBALIAS_NAME=/{web}/dbalias", "DBALIAS_ENV_PASSWORD=x"):
            assert var in lines, var
        assert lines[-1] == "reached"  # the alias reaches the linked container over the bridge
        sk("create", "--name", web, "--link", db, "busybox", "true")
        assert json.loads(sk.out("inspect", "-f", "{{json .HostConfig.Links}}", web)) == [f"/{db}:/{web}/{db}"]
        sk("stop", "-t", "0", db)
        cp = sk("start", web, check=False)
        assert cp.returncode == 1 and f"Cannot link to a non running container: /{db} AS /{web}/{db}" in \
            cp.stderr.decode()
        assert sk.out("inspect", "-f", "{{.State.Status}}", web).strip() == "created"
    finally:
        sk("rm", "-f", db, web, check=False)
    for args, words in ((("--link", "nosuch_ctr"), "could not get container for nosuch_ctr: No such container: "
                                                   "nosuch_ctr"),
                        (("--link", "a:b:c"), 'invalid argument "a:b:c" for "--link" flag: bad format for links: '
                                              "a:b:c"),
                        (("--network", "host", "--link", db), "conflicting options: host type networking can't be "
                                                             "used with links")):
        before = sk.out("ps", "-aq")
        cp = sk("run", "--rm", *args, "busybox", "true", check=False)
        assert cp.returncode == 125 and words in cp.stderr.decode(), (args, cp.stderr)
        assert sk.out("ps", "-aq") == before


def test_link_names_exec_env_and_rm_link(sk, name):  # type: ignore[no-untyped-def]
    """ps lists a linked container's link names with --no-trunc (docker/cli shows only its own name
    otherwise) and matches them in name filters; exec gets the link's variables as the start did; rm --link
    removes the link (moby's rmLink), with moby's errors for a plain name and a link that does not exist."""
    db, web = f"{name}-db", f"{name}-web"
    sk("run", "-d", "--name", db, "--expose", "5432", "-e", "PGX=1", "busybox", "sleep", "600")
    try:
        sk("run", "-d", "--name", web, "--link", f"{db}:dbalias", "busybox", "sleep", "600")
        ip = sk.out("inspect", "-f", "{{.NetworkSettings.IPAddress}}", db).strip()
        env = sk.out("exec", web, "env").splitlines()
        for var in (f"DBALIAS_PORT=tcp://{ip}:5432", f"DBALIAS_PORT_5432_TCP_ADDR={ip}", "DBALIAS_ENV_PGX=1",
                    f"DBALIAS_NAME=/{web}/dbalias"):
            assert var in env, var
        rows = sk.out("ps", "--no-trunc", "--format", "{{.Names}}").split()
        assert f"{db},{web}/dbalias" in rows and web in rows
        assert db in sk.out("ps", "--format", "{{.Names}}").split()  # truncated: its own name only
        assert sk.out("ps", "-f", "name=dbalias", "--format", "{{.Names}}").split() == [db]
        cp = sk("rm", "-l", f"/{web}/nosuch", check=False)
        assert cp.returncode == 1 and f"No such container: /{web}/nosuch" in cp.stderr.decode()
        cp = sk("rm", "--link", db, check=False)
        assert cp.returncode == 1 and "Conflict, cannot remove the default link name of the container" in \
            cp.stderr.decode()
        assert sk.out("rm", "-l", f"/{web}/dbalias").strip() == f"/{web}/dbalias"
        assert json.loads(sk.out("inspect", "-f", "{{json .HostConfig.Links}}", web)) is None
        assert sk.out("ps", "--no-trunc", "--format", "{{.Names}}").split().count(db) == 1
        sk("restart", "-t", "0", web)
        assert not [e for e in sk.out("exec", web, "env").splitlines() if e.startswith("DBALIAS")]
        assert sk.out("inspect", "-f", "{{.State.Status}}", db).strip() == "running"  # rm -l removes no container
    finally:
        sk("rm", "-f", db, web, check=False)
