"""skiff image inspect --size-breakdown on an image skiff built: layers largest first, each with the
instruction that made it, and totals that match the layers."""

from __future__ import annotations

import json
from pathlib import Path

from skiff.engine.size_report import clean_instruction, layer_instructions
from skiff.oci.image import History

DOCKERFILE = """FROM busybox:latest
ENV A=1
RUN dd if=/dev/zero of=/big bs=1024 count=6000 2>/dev/null
COPY small.txt /small.txt
RUN dd if=/dev/urandom of=/medium bs=1024 count=3000 2>/dev/null
CMD ["sh"]
"""


def test_size_breakdown_of_a_built_image(skiff, busybox_image: str, tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    (ctx / "small.txt").write_text("hello\n")
    skiff("build", "-t", "sizes:test", str(ctx), timeout=600)

    report = json.loads(skiff("image", "inspect", "--size-breakdown", "-f", "json", "sizes:test").stdout)[0]
    layers = report["Layers"]
    assert len(layers) == 4  # busybox + RUN + COPY + RUN; ENV and CMD make no layer
    made = [clean_instruction(x["CreatedBy"]) for x in layers]
    assert made[0].startswith("RUN dd if=/dev/zero of=/big")  # 6 MB of zeros, the largest unpacked layer
    assert made[1].startswith("RUN dd if=/dev/urandom of=/medium")
    assert made[3] == "COPY small.txt /small.txt"  # the smallest
    unpacked = [x["Unpacked"] for x in layers]
    assert unpacked == sorted(unpacked, reverse=True)
    assert 6_000_000 <= unpacked[0] < 6_300_000
    assert report["TotalUnpacked"] == sum(unpacked)
    assert report["TotalCompressed"] == sum(x["Compressed"] for x in layers)
    assert layers[0]["Compressed"] < 100_000  # zeros compress; the random layer does not
    assert layers[1]["Compressed"] > 3_000_000
    assert {x["Index"] for x in layers} == {0, 1, 2, 3}

    text = skiff("image", "inspect", "--size-breakdown", "sizes:test").stdout.decode()
    lines = text.splitlines()
    assert lines[0].startswith("docker.io/library/sizes:test (") or lines[0].startswith("sizes:test (")
    assert lines[1].split() == ["SIZE", "COMPRESSED", "SHARE", "LAYER", "CREATED", "BY"]
    assert "RUN dd if=/dev/zero" in lines[2] and lines[-1].split()[-1] == "TOTAL"


def test_missing_image_is_an_error(skiff) -> None:
    cp = skiff("image", "inspect", "--size-breakdown", "nosuch:image", check=False)
    assert cp.returncode != 0 and b"nosuch" in cp.stderr


def test_history_matching() -> None:
    hist = [History(created_by="ADD rootfs.tar /"), History(created_by="ENV A=1", empty_layer=True),
            History(created_by="RUN x"), History(created_by="CMD [\"sh\"]", empty_layer=True)]
    assert layer_instructions(hist, 3) == ["ADD rootfs.tar /", "RUN x", ""]  # a layer past the history
    assert layer_instructions(hist, 1) == ["ADD rootfs.tar /"]
    assert clean_instruction("/bin/sh -c #(nop)  CMD [\"sh\"]") == 'CMD ["sh"]'
    assert clean_instruction("/bin/sh -c pip install -r requirements.txt") == "RUN pip install -r requirements.txt"
    assert clean_instruction("RUN /bin/sh -c apt-get update # buildkit") == "RUN apt-get update"
    assert clean_instruction("RUN |1 PIP=1 /bin/sh -c pip install x # buildkit") == "RUN pip install x"
    assert clean_instruction("|1 PIP=1 /bin/sh -c pip install x") == "RUN pip install x"
    assert clean_instruction("COPY  a  b") == "COPY a b"
