"""--link's environment: moby's links_test.go cases (Link.ToEnv)."""

from __future__ import annotations

from skiff.engine.networks import link_env


def _env(*args: object) -> dict[str, str]:
    return dict(v.split("=", 1) for v in link_env(*args))  # type: ignore[arg-type]


def test_one_port_name_and_environment() -> None:
    env = _env("docker", "172.0.17.2", ["6379/tcp"], ["PASSWORD=gordon", "HOME=/root", "PATH=/bin"], "/db/docker")
    assert env == {"DOCKER_PORT": "tcp://172.0.17.2:6379", "DOCKER_PORT_6379_TCP": "tcp://172.0.17.2:6379",
                   "DOCKER_PORT_6379_TCP_ADDR": "172.0.17.2", "DOCKER_PORT_6379_TCP_PORT": "6379",
                   "DOCKER_PORT_6379_TCP_PROTO": "tcp", "DOCKER_NAME": "/db/docker", "DOCKER_ENV_PASSWORD": "gordon"}


def test_a_range_of_ports() -> None:
    env = _env("docker", "172.0.17.2", ["6381/tcp", "6379/tcp", "6380/tcp"], [], "/db/docker")
    assert env["DOCKER_PORT"] == "tcp://172.0.17.2:6379"
    assert env["DOCKER_PORT_6379_TCP_START"] == "tcp://172.0.17.2:6379"
    assert env["DOCKER_PORT_6379_TCP_END"] == "tcp://172.0.17.2:6381"
    assert (env["DOCKER_PORT_6379_TCP_PORT_START"], env["DOCKER_PORT_6379_TCP_PORT_END"]) == ("6379", "6381")
    assert env["DOCKER_PORT_6380_TCP_ADDR"] == "172.0.17.2"


def test_tcp_first_and_the_alias_in_capitals() -> None:
    out = link_env("my-db", "10.0.0.2", ["53/udp", "53/tcp"], [], "/web/my-db")
    assert out[0] == "MY_DB_PORT=tcp://10.0.0.2:53"
    assert "MY_DB_PORT_53_UDP_PROTO=udp" in out and out[-1] == "MY_DB_NAME=/web/my-db"
    assert not any(v.endswith("_START") or "_START=" in v for v in out)  # different protocols: no range
