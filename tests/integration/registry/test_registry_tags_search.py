"""pull/push --all-tags and `skiff search` through the real CLI against real docker-registry processes.

Every request goes to 127.0.0.0/8: the Docker Hub case runs skiff in a network namespace of its own (only a
loopback, down), so nothing can leave the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from images import BuiltImage, files_tar, make_image, push_raw
from pki import USERS, TokenServer
from registry_server import RegistryServer

from skiff.oci import reference
from skiff.registry.auth import AuthStore
from skiff.registry.client import RegistryClient
from skiff.registry.config import RegistriesConfig
from skiff.store.store import Store

TAGS = ("1.0", "1.1", "latest")


def _client(tmp_path: Path) -> RegistryClient:
    return RegistryClient(RegistriesConfig(), AuthStore(tmp_path / "fixture-auth.json"))


def _seed(tmp_path: Path, host: str, repo: str, tags: tuple[str, ...] = TAGS) -> dict[str, BuiltImage]:
    """One small image per tag (different contents, so different digests), pushed with the client."""
    images = {t: make_image([files_tar({"etc/tag": f"{repo}:{t}\n".encode()})]) for t in tags}
    with _client(tmp_path) as c:
        for t, img in images.items():
            push_raw(c, reference.parse(f"{host}/{repo}:{t}"), img)
    return images


def _lines(cp: subprocess.CompletedProcess[bytes], stream: str = "stdout") -> list[str]:
    return str(getattr(cp, stream).decode()).splitlines()


def test_push_all_tags_then_pull_all_tags(skiff_at: Any, registry: RegistryServer, tmp_path: Path) -> None:
    h = registry.host
    seed = _seed(tmp_path, h, "seed/app")
    a = tmp_path / "a"
    pulled = skiff_at(a, "pull", "--all-tags", f"{h}/seed/app")
    assert sorted(ln for ln in _lines(pulled, "stderr") if ": Pulling from " in ln) == \
        [f"{t}: Pulling from {h}/seed/app" for t in TAGS]
    out = _lines(pulled)
    assert sorted(ln for ln in out if ln.startswith("Digest: ")) == sorted(f"Digest: {i.digest}" for i in seed.values())
    assert out[-2:] == [f"Status: Downloaded newer image for {h}/seed/app", f"{h}/seed/app"]
    for t in TAGS:
        skiff_at(a, "tag", f"{h}/seed/app:{t}", f"{h}/team/app:{t}")
    skiff_at(a, "tag", f"{h}/seed/app:1.0", f"{h}/other/app:1.0")  # another repository: not pushed

    pushed = skiff_at(a, "push", "-a", f"{h}/team/app")
    assert _lines(pushed) == [f"{t}: digest: {seed[t].digest} size: {len(seed[t].manifest)}" for t in TAGS]
    assert _lines(pushed, "stderr").count(f"The push refers to repository [{h}/team/app]") == 1
    with _client(tmp_path) as c:
        assert sorted(c.list_tags(reference.parse(f"{h}/team/app"))) == list(TAGS)
        assert [p for page in c.catalog(h) for p in page] == ["seed/app", "team/app"]

    b = tmp_path / "b"
    out = _lines(skiff_at(b, "pull", "-a", f"{h}/team/app"))
    assert out[-2:] == [f"Status: Downloaded newer image for {h}/team/app", f"{h}/team/app"]
    recs = {r.id: r for r in Store(b / "root", b / "run").list_images()}
    assert set(recs) == {img.config_digest for img in seed.values()}
    for t, img in seed.items():
        rec = recs[img.config_digest]
        assert rec.names == [f"{h}/team/app:{t}"]
        assert rec.digests == [f"{h}/team/app@{img.digest}"]
        assert rec.layer_blobs == img.layer_digests
    again = skiff_at(b, "pull", "-a", f"{h}/team/app")
    assert _lines(again)[-2:] == [f"Status: Image is up to date for {h}/team/app", f"{h}/team/app"]
    assert _lines(skiff_at(b, "pull", "-a", "-q", f"{h}/team/app")) == [f"{h}/team/app"]


def test_all_tags_errors_and_default_tag(skiff_at: Any, registry: RegistryServer, tmp_path: Path) -> None:
    h = registry.host
    seed = _seed(tmp_path, h, "seed/app", ("1.0", "latest"))
    a = tmp_path / "a"
    digest = seed["1.0"].digest
    for args in (("push", "-a", f"{h}/seed/app:1.0"), ("push", "--all-tags", f"{h}/seed/app@{digest}"),
                 ("pull", "-a", f"{h}/seed/app:1.0"), ("pull", "--all-tags", f"{h}/seed/app@{digest}"),
                 ("push", "-a", f"{h}/seed/app", f"{h}/copy/app:2")):
        r = skiff_at(a, *args, check=False)
        assert (r.returncode, r.stderr.decode()) == (1, "Error: tag can't be used with --all-tags/-a\n"), args
        assert r.stdout == b""
    missing = skiff_at(a, "push", "-a", f"{h}/seed/app", check=False)
    assert missing.returncode == 1
    assert _lines(missing, "stderr")[-1] == f"Error: An image does not exist locally with the tag: {h}/seed/app"
    gone = skiff_at(a, "pull", "-a", f"{h}/nothing/here", check=False)
    assert gone.returncode == 1 and f"{h}/nothing/here" in gone.stderr.decode()

    # --disable-content-trust is accepted (and changes nothing: skiff has no Notary)
    skiff_at(a, "pull", "-q", "--disable-content-trust", f"{h}/seed/app:1.0")
    skiff_at(a, "pull", "-q", "--disable-content-trust=false", f"{h}/seed/app")
    # without -a and without a tag: Docker's default tag, and only that one
    r = skiff_at(a, "push", "--disable-content-trust", f"{h}/seed/app", f"{h}/copy/app")
    assert "Using default tag: latest" in _lines(r, "stderr")
    assert _lines(r) == [f"latest: digest: {seed['latest'].digest} size: {len(seed['latest'].manifest)}"]
    with _client(tmp_path) as c:
        assert c.list_tags(reference.parse(f"{h}/copy/app")) == ["latest"]
    # -a with a destination repository: every tag of the source, under the destination's name
    r = skiff_at(a, "push", "-a", "-q", f"{h}/seed/app", f"{h}/mirror/app")
    assert r.stdout == b""
    with _client(tmp_path) as c:
        assert sorted(c.list_tags(reference.parse(f"{h}/mirror/app"))) == ["1.0", "latest"]


class PagedRegistry(RegistryServer):
    """A registry whose catalog pages hold at most two names (``catalog.maxentries``), Link to the next."""

    def config_yaml(self) -> str:
        return super().config_yaml() + "catalog:\n  maxentries: 2\n"


def test_search_catalog(skiff_at: Any, auth_env: dict[str, str], tmp_path: Path) -> None:
    srv = PagedRegistry(tmp_path / "paged").start()
    try:
        h = srv.host
        repos = ["alpha/app", "beta/app", "beta/tool", "gamma/app-extra", "zeta/db"]
        img = make_image([files_tar({"etc/x": b"x\n"})])
        with _client(tmp_path) as c:
            for r in repos:
                push_raw(c, reference.parse(f"{h}/{r}:1"), img)
            # the registry's own n/last: pages of two, each naming the next
            pages = list(c.catalog(h, page_size=2))
            assert pages == [repos[0:2], repos[2:4], repos[4:]]
            assert [p for page in c.catalog(h) for p in page] == repos  # maxentries pages it even without n
        s = tmp_path / "s"
        out = skiff_at(s, "search", f"{h}/app").stdout.decode()
        assert out.splitlines()[0].split() == ["NAME", "DESCRIPTION", "STARS", "OFFICIAL"]
        assert [ln.split() for ln in out.splitlines()[1:]] == [[f"{h}/{r}", "0"] for r in
                                                                ("alpha/app", "beta/app", "gamma/app-extra")]
        everything = skiff_at(s, "search", f"{h}/").stdout.decode().splitlines()[1:]
        assert [ln.split()[0] for ln in everything] == [f"{h}/{r}" for r in repos]  # past the catalog's pages
        exact = skiff_at(s, "search", "--format", "{{.Name}}", f"{h}/beta/tool").stdout.decode()
        assert exact.splitlines() == [f"{h}/beta/tool"]
        limited = skiff_at(s, "search", "--limit", "3", "--format", "{{.Name}}", f"{h}/").stdout.decode()
        assert limited.splitlines() == [f"{h}/{r}" for r in repos[:3]]
        fmt = skiff_at(s, "search", "--format", "{{.Name}}|{{.Description}}|{{.StarCount}}|{{.IsOfficial}}|"
                       "{{.IsAutomated}}", f"{h}/db").stdout.decode()
        assert fmt == f"{h}/zeta/db||0||\n"
        js = skiff_at(s, "search", "--format", "json", f"{h}/db").stdout.decode()
        assert json.loads(js) == {"Name": f"{h}/zeta/db", "Description": "", "StarCount": "0",
                                  "IsOfficial": "false", "IsAutomated": "false"}
        table = skiff_at(s, "search", "--no-trunc", "--format", "table {{.Name}}\t{{.StarCount}}",
                         f"{h}/zeta").stdout.decode()
        name = f"{h}/zeta/db"
        assert table.splitlines() == ["NAME".ljust(len(name) + 3) + "STARS", f"{name}   0"]
        none = skiff_at(s, "search", f"{h}/nomatch").stdout.decode()
        assert none.split() == ["NAME", "DESCRIPTION", "STARS", "OFFICIAL"]
        # the filters: catalog entries have no stars and are not official
        assert skiff_at(s, "search", "-f", "is-official=false", "--format", "{{.Name}}",
                        f"{h}/db").stdout.decode() == f"{h}/zeta/db\n"
        for f in ("is-official=true", "stars=1"):
            assert skiff_at(s, "search", "-f", f, "--format", "{{.Name}}", f"{h}/").stdout == b""
        auto = skiff_at(s, "search", "--filter=is-automated=true", "--format", "{{.Name}}", f"{h}/")
        assert auto.stdout == b"" and "is-automated" in auto.stderr.decode()
        # registries.toml's unqualified-search registries are searched for a term without a host (podman)
        Path(auth_env["SKIFF_REGISTRIES_CONF"]).write_text(f'unqualified-search-registries = ["{h}"]\n')
        got = skiff_at(s, "search", "--format", "{{.Name}}", "tool")
        assert got.stdout.decode() == f"{h}/beta/tool\n"
    finally:
        srv.stop()


def test_search_errors(skiff_at: Any, registry: RegistryServer, tmp_path: Path) -> None:
    h = registry.host
    _seed(tmp_path, h, "x/app", ("1",))  # a result for the template to fail on
    s = tmp_path / "s"
    cases = {("--limit", "0"): "Error: limit 0 is outside the range of [1, 100]",
             ("--limit", "101"): "Error: limit 101 is outside the range of [1, 100]",
             ("--limit=-3",): "Error: limit -3 is outside the range of [1, 100]",
             ("-f", "bogus=1"): "Error: invalid filter 'bogus'",
             ("-f", "stars=many"): "Error: invalid filter 'stars=many'",
             ("-f", "is-official=maybe"): "Error: invalid filter 'is-official=[maybe]'",
             ("-f", "stars"): "Error: bad format of filter (expected name=value): stars",
             ("--format", "{{.Stars}}"): "Error: template parsing error: template: :1:2: executing \"\" at "
                                         "<.Stars>: can't evaluate field Stars in type *registry.searchContext"}
    for args, err in cases.items():
        r = skiff_at(s, "search", *args, f"{h}/app", check=False)
        assert (r.returncode, r.stderr.decode().strip()) == (1, err), args
    bad = skiff_at(s, "search", "--limit", "lots", f"{h}/app", check=False)
    assert bad.returncode == 125 and 'invalid argument "lots" for "--limit" flag' in bad.stderr.decode()
    r = skiff_at(s, "search", check=False)
    assert r.returncode == 1 and '"skiff search" requires exactly 1 argument.' in r.stderr.decode()


def test_search_docker_hub_fails_fast(auth_env: dict[str, str], tmp_path: Path) -> None:
    """Without a registry host the term goes to Docker Hub, unreachable here: one line naming docker.io, exit 1.
    skiff runs in a new network namespace (loopback only, down): nothing can leave the machine."""
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        pytest.skip("needs unshare(1) and root for a network namespace")
    if subprocess.run([unshare, "--net", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot make a network namespace here")
    exe = shutil.which("skiff", path=str(Path(sys.executable).parent)) or "skiff"
    env = dict(os.environ, **auth_env)
    for term in ("busybox", "docker.io/library/busybox"):
        started = time.monotonic()
        r = subprocess.run([unshare, "--net", exe, "--root", str(tmp_path / "root"), "--runroot",
                            str(tmp_path / "run"), "search", term], capture_output=True, env=env, timeout=120)
        took = time.monotonic() - started
        err = r.stderr.decode().strip().splitlines()
        assert r.returncode == 1 and r.stdout == b"" and len(err) == 1, (r.returncode, err)
        assert err[0].startswith("Error: searching docker.io for ") and "index.docker.io" in err[0]
        assert took < 30


def test_token_registry_all_tags_and_search(skiff_at: Any, token_registry: tuple[RegistryServer, TokenServer],
                                            registry: RegistryServer, tmp_path: Path) -> None:
    srv, tok = token_registry
    seed = _seed(tmp_path, registry.host, "seed/app", ("1", "2"))
    a = tmp_path / "a"
    skiff_at(a, "pull", "-q", "-a", f"{registry.host}/seed/app")
    for t in seed:
        skiff_at(a, "tag", f"{registry.host}/seed/app:{t}", f"{srv.host}/team/app:{t}")
    denied = skiff_at(a, "push", "-a", f"{srv.host}/team/app", check=False)
    assert denied.returncode == 1
    skiff_at(a, "login", "-u", "alice", "--password-stdin", srv.host, input=USERS["alice"].encode())
    out = skiff_at(a, "push", "-a", f"{srv.host}/team/app").stdout.decode()
    assert out.splitlines() == [f"{t}: digest: {seed[t].digest} size: {len(seed[t].manifest)}" for t in ("1", "2")]
    found = skiff_at(a, "search", "--format", "{{.Name}}", f"{srv.host}/team").stdout.decode()
    assert found == f"{srv.host}/team/app\n"
    assert any("registry:catalog:*" in q.get("scope", []) for q in tok.requests)
    skiff_at(a, "logout", srv.host)
    anon = skiff_at(a, "search", f"{srv.host}/team", check=False)  # the token service grants no catalog
    assert anon.returncode == 1 and len(anon.stderr.decode().strip().splitlines()) <= 2
    b = tmp_path / "b"
    pulled = skiff_at(b, "pull", "-a", f"{srv.host}/team/app").stdout.decode()  # anonymous pull is allowed
    assert pulled.splitlines()[-1] == f"{srv.host}/team/app"
    assert {r.names[0] for r in Store(b / "root", b / "run").list_images()} == \
        {f"{srv.host}/team/app:{t}" for t in ("1", "2")}
