"""OCI image types: round trips through the codec, digests, Docker conversion."""

from __future__ import annotations

import json

import pytest

from skiff.oci import docker
from skiff.oci.codec import CodecError, canonical, from_obj, to_obj
from skiff.oci.image import (
    MT_OCI_LAYER_GZIP,
    ContainerConfig,
    Descriptor,
    ImageConfig,
    Manifest,
    decode_config,
    decode_manifest,
    descriptor_for,
    encode,
)

D = "sha256:" + "a" * 64


def test_manifest_round_trip_keeps_unknown_fields() -> None:
    raw = {"schemaVersion": 2, "mediaType": docker.MT_MANIFEST,
           "config": {"mediaType": docker.MT_CONFIG, "digest": D, "size": 7},
           "layers": [{"mediaType": docker.MT_LAYER_GZIP, "digest": D, "size": 0, "x-extra": 1}],
           "vendor.field": {"a": [1, 2]}}
    m = from_obj(Manifest, raw)
    assert m.layers[0].size == 0 and m.layers[0].extra == {"x-extra": 1}
    assert to_obj(m) == raw
    o = docker.manifest_to_oci(m)
    assert o.layers[0].media_type == MT_OCI_LAYER_GZIP
    assert docker.manifest_to_docker(o).layers[0].media_type == docker.MT_LAYER_GZIP


def test_image_config_docker_fields() -> None:
    raw = {"architecture": "amd64", "os": "linux",
           "config": {"Env": ["PATH=/bin"], "Cmd": ["sh"], "ExposedPorts": {"8000/tcp": {}},
                      "Healthcheck": {"Test": ["CMD", "true"], "Interval": 30000000000}},
           "rootfs": {"type": "layers", "diff_ids": []},
           "history": [{"created_by": "x", "empty_layer": True}]}
    c = decode_config(json.dumps(raw).encode())
    assert c.config.exposed_ports == {"8000/tcp": {}}
    assert c.config.healthcheck is not None and c.config.healthcheck.interval == 30000000000
    assert json.loads(encode(c)) == raw
    c2 = c.with_config(cmd=["true"])
    assert c2.config.cmd == ["true"] and c.config.cmd == ["sh"]


def test_canonical_is_deterministic_and_digest_matches() -> None:
    c = ImageConfig(config=ContainerConfig(env=["A=1"]))
    assert canonical(c) == canonical(ImageConfig(config=ContainerConfig(env=["A=1"])))
    d = descriptor_for(encode(c), "application/vnd.oci.image.config.v1+json")
    assert d.size == len(encode(c)) and d.digest.startswith("sha256:")


def test_bad_input_names_json_path() -> None:
    with pytest.raises(CodecError, match=r"\$\.layers\[0\]\.size"):
        decode_manifest(json.dumps({"config": {"mediaType": "x", "digest": D, "size": 1},
                                    "layers": [{"mediaType": "x", "digest": D, "size": "big"}]}).encode())
    with pytest.raises(CodecError, match=r"\$\.config: required"):
        decode_manifest(b'{"layers": []}')
    with pytest.raises(Exception, match="invalid digest"):
        Descriptor(media_type="x", digest="sha256:../../etc", size=1)
    with pytest.raises(CodecError, match="invalid JSON"):
        decode_manifest(b"{not json")
