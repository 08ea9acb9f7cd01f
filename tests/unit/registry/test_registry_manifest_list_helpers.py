"""Pure helpers of local manifest lists: file-safe names, Go's os/arch table, annotate, the list bytes and
the JSON shapes docker/cli prints (checked against docker/cli's own expected outputs)."""

from __future__ import annotations

import base64
import json

import pytest

from skiff.errors import InvalidArgumentError
from skiff.oci.image import Platform
from skiff.registry import manifest_lists as ml
from skiff.registry.manifest_lists import ListEntry

MT_DOCKER = "application/vnd.docker.distribution.manifest.v2+json"
MT_OCI = "application/vnd.oci.image.manifest.v1+json"

# docker/cli's test manifest (cli/command/manifest/testdata): a schema2 manifest as the registry serves it
RAW = base64.b64decode(
    "ewogICAic2NoZW1hVmVyc2lvbiI6IDIsCiAgICJtZWRpYVR5cGUiOiAiYXBwbGljYXRpb24vdm5kLmRvY2tlci5kaXN0cmlidXRpb24u"
    "bWFuaWZlc3QudjIranNvbiIsCiAgICJjb25maWciOiB7CiAgICAgICJtZWRpYVR5cGUiOiAiYXBwbGljYXRpb24vdm5kLmRvY2tlci5j"
    "b250YWluZXIuaW1hZ2UudjEranNvbiIsCiAgICAgICJzaXplIjogMTUyMCwKICAgICAgImRpZ2VzdCI6ICJzaGEyNTY6NzMyOGY2Zjhi"
    "NDE4OTA1OTc1NzVjYmFhZGM4ODRlNzM4NmFlMGFjYzUzYjc0NzQwMWViY2U1Y2YwZDYyNDU2MCIKICAgfSwKICAgImxheWVycyI6IFsK"
    "ICAgICAgewogICAgICAgICAibWVkaWFUeXBlIjogImFwcGxpY2F0aW9uL3ZuZC5kb2NrZXIuaW1hZ2Uucm9vdGZzLmRpZmYudGFyLmd6"
    "aXAiLAogICAgICAgICAic2l6ZSI6IDE5OTA0MDIsCiAgICAgICAgICJkaWdlc3QiOiAic2hhMjU2Ojg4Mjg2ZjQxNTMwZTkzZGZmZDRi"
    "OTY0ZTFkYjIyY2U0OTM5ZmZmYTRhNGM2NjVkYWI4NTkxZmJhYjAzZDQ5MjYiCiAgICAgIH0KICAgXQp9")
DIGEST = "sha256:1072e499f3f655a032e88542330cf75b02e7bdf673278f701d7ba61629ee3ebe"


def _entry(ref: str = "example.com/alpine:3.0", *, media_type: str = MT_DOCKER,
           platform: Platform | None = None) -> ListEntry:
    return ListEntry(ref, media_type, DIGEST, len(RAW), RAW,
                     platform or Platform(architecture="amd64", os="linux"))


def test_safe_names_round_trip() -> None:
    ref = "127.0.0.1:5000/team/app:v1"
    assert ml.safe_name(ref) == "127.0.0.1%5000#team#app%v1"
    assert ml.entry_filename(ref) == "127.0.0.1%5000#team#app%v1.json"
    assert ml.ref_from_safe_name(ml.entry_filename(ref)) == ref
    assert ml.ref_from_safe_name("docker.io#library#busybox%latest") == "docker.io/library/busybox:latest"


@pytest.mark.parametrize(("os_", "arch", "ok"), [
    ("linux", "amd64", True), ("linux", "arm64", True), ("linux", "arm", True), ("linux", "s390x", True),
    ("linux", "riscv64", True), ("windows", "amd64", True), ("darwin", "arm64", True), ("freebsd", "arm", True),
    ("windows", "arm64", False), ("linux", "x86_64", False), ("freebsd", "fake", False), ("", "amd64", False),
    ("Linux", "amd64", False), ("solaris", "386", False),
])
def test_os_arch_table(os_: str, arch: str, ok: bool) -> None:
    assert ml.is_valid_os_arch(os_, arch) is ok
    assert len(ml.VALID_OS_ARCH) == 28


def test_annotate_sets_given_fields_and_appends_features() -> None:
    e = ml.annotate(_entry(), os_="freebsd", arch="arm", os_version="1", os_features=["feature1"], variant="v7")
    assert e.platform == Platform(architecture="arm", os="freebsd", os_version="1", os_features=["feature1"],
                                  variant="v7")
    again = ml.annotate(e, os_features=["feature1", "feature2"])
    assert again.platform is not None and again.platform.os_features == ["feature1", "feature2"]
    assert again.platform.variant == "v7"
    with pytest.raises(InvalidArgumentError) as ei:
        ml.annotate(_entry(), os_="freebsd", arch="fake")
    assert str(ei.value) == "manifest entry for image has unsupported os/arch combination: freebsd/fake"
    with pytest.raises(InvalidArgumentError) as ei:  # the message names the flags, as docker/cli's does
        ml.annotate(_entry(), arch="fake")
    assert str(ei.value) == "manifest entry for image has unsupported os/arch combination: /fake"
    bare = ListEntry("example.com/a:1", MT_DOCKER, DIGEST, len(RAW), RAW, None)
    assert ml.annotate(bare, os_="linux", arch="arm64").platform == Platform(architecture="arm64", os="linux")


def test_verbose_entry_is_docker_clis() -> None:
    """docker/cli's inspect-annotate.golden, byte for byte."""
    e = ml.annotate(_entry(), os_="freebsd", arch="arm", os_version="1", os_features=["feature1"], variant="v7")
    b64 = base64.b64encode(RAW).decode()
    want = (
        '{\n\t"Ref": "example.com/alpine:3.0",\n\t"Descriptor": {\n'
        f'\t\t"mediaType": "{MT_DOCKER}",\n\t\t"digest": "{DIGEST}",\n\t\t"size": 528,\n'
        '\t\t"platform": {\n\t\t\t"architecture": "arm",\n\t\t\t"os": "freebsd",\n\t\t\t"os.version": "1",\n'
        '\t\t\t"os.features": [\n\t\t\t\t"feature1"\n\t\t\t],\n\t\t\t"variant": "v7"\n\t\t}\n\t},\n'
        f'\t"Raw": "{b64}",\n'
        '\t"SchemaV2Manifest": {\n\t\t"schemaVersion": 2,\n'
        f'\t\t"mediaType": "{MT_DOCKER}",\n'
        '\t\t"config": {\n\t\t\t"mediaType": "application/vnd.docker.container.image.v1+json",\n'
        '\t\t\t"size": 1520,\n'
        '\t\t\t"digest": "sha256:7328f6f8b41890597575cbaadc884e7386ae0acc53b747401ebce5cf0d624560"\n\t\t},\n'
        '\t\t"layers": [\n\t\t\t{\n\t\t\t\t"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",\n'
        '\t\t\t\t"size": 1990402,\n'
        '\t\t\t\t"digest": "sha256:88286f41530e93dffd4b964e1db22ce4939fffa4a4c665dab8591fbab03d4926"\n'
        '\t\t\t}\n\t\t]\n\t}\n}')
    assert ml.verbose_entry(e).decode() == want


def test_list_bytes_are_distributions() -> None:
    """docker/cli's inspect-manifest-list.golden (distribution's MarshalIndent with three spaces)."""
    d = "sha256:7328f6f8b41890597575cbaadc884e7386ae0acc53b747401ebce5cf0d62abcd"
    e = ListEntry("example.com/alpine:3.0", MT_DOCKER, d, 528, RAW, Platform(architecture="amd64", os="linux"))
    body = ml.build_list([e, e], "example.com/list:v1")
    item = ('      {\n         "mediaType": "application/vnd.docker.distribution.manifest.v2+json",\n'
            f'         "size": 528,\n         "digest": "{d}",\n'
            '         "platform": {\n            "architecture": "amd64",\n            "os": "linux"\n'
            '         }\n      }')
    assert body.decode() == ('{\n   "schemaVersion": 2,\n'
                             '   "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",\n'
                             f'   "manifests": [\n{item},\n{item}\n   ]\n}}')


def test_list_media_type_and_refusals() -> None:
    oci = _entry(media_type=MT_OCI)
    assert ml.list_media_type([oci, _entry()]) == "application/vnd.oci.image.index.v1+json"
    assert ml.list_media_type([_entry(), oci]) == "application/vnd.docker.distribution.manifest.list.v2+json"
    assert json.loads(ml.build_list([oci], "example.com/l:1"))["mediaType"] == "application/vnd.oci.image.index.v1+json"
    with pytest.raises(InvalidArgumentError) as ei:
        ml.build_list([_entry()], "docker.io/library/l:1")
    assert str(ei.value) == ("cannot use source images from a different registry than the target image: "
                             "example.com != docker.io")
    bare = ListEntry("example.com/a:1", MT_DOCKER, DIGEST, len(RAW), RAW, None)
    assert json.loads(ml.build_list([bare], "example.com/l:1"))["manifests"][0]["platform"] == \
        {"architecture": "", "os": ""}
    with pytest.raises(InvalidArgumentError) as ei:
        ml.build_list([bare], "example.com/l:1", for_push=True)
    assert str(ei.value) == "manifest example.com/a:1 must have an OS and Architecture to be pushed to a registry"


def test_entry_file_round_trip_and_docker_cli_files() -> None:
    e = ml.annotate(_entry(), variant="v7", arch="arm")
    data = ml.encode_entry(e)
    obj = json.loads(data)
    assert list(obj) == ["Ref", "Descriptor", "Raw", "SchemaV2Manifest"] and b"\n" not in data
    assert ml.decode_entry(data, "f") == e
    oci = _entry(media_type=MT_OCI)
    assert "OCIManifest" in json.loads(ml.encode_entry(oci))
    # a file from an older docker/cli: no Raw, the manifest only (its compact bytes stand in)
    del obj["Raw"]
    old = ml.decode_entry(json.dumps(obj).encode(), "f")
    assert json.loads(old.raw) == json.loads(RAW) and old.platform == e.platform
    with pytest.raises(InvalidArgumentError, match="invalid manifest file f"):
        ml.decode_entry(b"{}", "f")
    assert [d["size"] for d in e.blobs()] == [1520, 1990402]


@pytest.mark.parametrize("raw", [
    RAW, b'{"a":[],"b":{},"c":[1,{"d":"x,y:{}"}],"e":"\\"q\\u00e9"}', b"[]", b'  {"k" : [ 1 , 2 ] }  ',
])
def test_go_indent_matches_json_indent(raw: bytes) -> None:
    got = ml.go_indent(raw)
    assert json.loads(got) == json.loads(raw)
    assert got.decode() == json.dumps(json.loads(raw), indent="\t", ensure_ascii=False).replace("é", "\\u00e9")


def test_platform_from_config() -> None:
    cfg = {"architecture": "arm", "os": "linux", "variant": "v7", "os.version": "10.0", "os.features": ["x"],
           "rootfs": {}}
    assert ml.platform_from_config(cfg) == Platform(architecture="arm", os="linux", variant="v7",
                                                    os_version="10.0", os_features=["x"])
    assert ml.platform_from_config({}) == Platform(architecture="", os="")
