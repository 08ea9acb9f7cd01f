"""`skiff manifest` flags: docker's --insecure is --tls-verify=false unless --tls-verify is given; pflag's
StringSlice for annotate --os-features."""

from __future__ import annotations

import argparse

from skiff.cli.commands import manifest_annotate, manifest_create, manifest_inspect, manifest_push


def _parse(module: object, argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    module.configure(p)  # type: ignore[attr-defined]
    return p.parse_args(argv)


def test_insecure_means_tls_verify_false() -> None:
    for mod, args in ((manifest_create, ["l", "m"]), (manifest_push, ["l"]), (manifest_inspect, ["l"])):
        assert manifest_inspect.manifest_registry_options(_parse(mod, args)).tls_verify is None
        assert manifest_inspect.manifest_registry_options(_parse(mod, ["--insecure", *args])).tls_verify is False
        both = _parse(mod, ["--insecure", "--tls-verify=true", *args])
        assert manifest_inspect.manifest_registry_options(both).tls_verify is True


def test_flags_parse_as_docker_names_them() -> None:
    a = _parse(manifest_create, ["-a", "list", "m1", "m2"])
    assert a.amend and a.manifest_list == "list" and a.manifests == ["m1", "m2"]
    a = _parse(manifest_push, ["-p", "list"])
    assert a.purge and a.manifest_list == "list"
    a = _parse(manifest_inspect, ["-v", "list", "m"])
    assert a.verbose and (a.reference, a.manifest) == ("list", "m")
    a = _parse(manifest_annotate, ["--os-features", "a,b", "--os-features", "c", "--arch", "arm", "l", "m"])
    assert a.os_features == ["a,b", "c"] and a.arch == "arm" and a.os == ""
