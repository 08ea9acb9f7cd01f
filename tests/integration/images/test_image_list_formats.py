"""images, history and system df output against Docker 20.10's.

The expected outputs were printed by a private Docker 20.10.24 daemon for the same images and containers, with
what differs between two runs (IDs, times, ages, sizes) replaced by placeholders (``normalise``). Docker prints
its own errors without skiff's "Error: " prefix, which is added here. The system df test computes the sizes from
`image inspect` and checks Docker's arithmetic and formats (go-units HumanSize, 4 significant digits).
"""

from __future__ import annotations

import json
from typing import Any

from helpers.listing import cells, normalise
from skiff.cli.commands._fmt import human_size

NONE = ("--network", "none")


def _exec(t: str, problem: str) -> str:
    return f'Error: template parsing error: template: :1:2: executing "" at <{t}>: {problem}\n'


REF = "{{.Repository}}:{{.Tag}}"
IMAGE_CASES: list[tuple[tuple[str, ...], int, str, str]] = [
    (("images", "lfi", "--format", "{{json .}}"), 0,
     '{"Containers":"N/A","CreatedAt":"<TIME>","CreatedSince":"<DUR> ago","Digest":"\\u003cnone\\u003e",'
     '"ID":"<ID>","Repository":"lfi","SharedSize":"N/A","Size":"<SIZE>","Tag":"one","UniqueSize":"N/A",'
     '"VirtualSize":"<SIZE>"}\n', ""),
    # VirtualSize's header is SIZE too
    (("images", "lfi", "--format", "table {{.Repository}}\t{{.Tag}}\t{{.VirtualSize}}\t{{.Containers}}\t"
      "{{.SharedSize}}\t{{.UniqueSize}}\t{{.Digest}}\t{{.CreatedAt}}"), 0,
     "REPOSITORY   TAG       SIZE      CONTAINERS   SHARED SIZE   UNIQUE SIZE   DIGEST    CREATED AT\n"
     "lfi          one       <SIZE>   N/A          N/A           N/A           <none>    <TIME>\n", ""),
    (("images", "lfi", "--format", "raw"), 0,
     "repository: lfi\ntag: one\nimage_id: <ID>\ncreated_at: <TIME>\nvirtual_size: <SIZE>\n\n", ""),
    (("images", "lfi", "--format", "raw", "--digests"), 0,
     "repository: lfi\ntag: one\ndigest: <none>\nimage_id: <ID>\ncreated_at: <TIME>\nvirtual_size: <SIZE>\n\n",
     ""),
    (("images", "lfi", "--format", "raw", "-q"), 0, "image_id: <ID>\n", ""),
    (("images", "lfi", "-q", "--format", "{{.Tag}}"), 0, "one\n", ""),  # the template wins over -q
    (("images", "lfi", "-q", "--format", "table"), 0, "<ID>\n", ""),
    (("images", "lfi", "--format", "{{.Foo}}"), 1, "",
     _exec(".Foo", "can't evaluate field Foo in type *formatter.imageContext")),
    (("images", "-f", "dangling=maybe"), 1, "", "Error: invalid filter 'dangling=[maybe]'\n"),
    # reference: Go's path.Match on the familiar name[:tag]: "*" and "?" do not cross "/"
    (("images", "-f", "reference=lf*", "--format", REF), 0, "lfc:1\nlfi:one\n", ""),
    (("images", "-f", "reference=lf*/*", "--format", REF), 0, "lfo/thing:1.0\n", ""),
    (("images", "-f", "reference=lfi:o?e", "--format", REF), 0, "lfi:one\n", ""),
    (("images", "-f", "reference=[^b]f[a-z]*", "--format", REF), 0, "lfc:1\nlfi:one\n", ""),
    (("images", "-f", "reference=[b"), 1, "", "Error: syntax error in pattern\n"),
    (("history", "-H=false", "--format", "table {{.CreatedSince}}\t{{.CreatedAt}}", "lfc:1"), 0,
     "CREATED                CREATED AT\n<RFC3339>   <RFC3339>\n<RFC3339>   <RFC3339>\n", ""),
    (("history", "--format", "{{.Foo}}", "lfc:1"), 1, "",
     _exec(".Foo", "can't evaluate field Foo in type *image.historyContext")),
]


def _scene(bb: Any) -> None:
    bb("tag", "busybox", "lfi:one")
    bb("tag", "busybox", "lfo/thing:1.0")
    bb("run", "--name", "lf_exit", *NONE, "busybox", "sh", "-c", "true && exit 3", check=False)
    bb("commit", "lf_exit", "lfc:1")
    bb("rm", "lf_exit")


def test_images_and_history_like_docker(bb: Any) -> None:
    _scene(bb)
    for argv, rc, out, err in IMAGE_CASES:
        cp = bb(*argv, check=False)
        got = (cp.returncode, normalise(cp.stdout.decode()), normalise(cp.stderr.decode()))
        assert got == (rc, out, err), argv
    # the default tables: Docker pads an empty last cell (history's COMMENT) like any other
    lines = bb("history", "lfc:1").stdout.decode().splitlines()
    assert cells(lines[0]) == ["IMAGE | CREATED | CREATED BY | SIZE | COMMENT"]
    assert lines[1].endswith("   ") and cells(lines[1])[0].split(" | ")[2] == "sh -c true && exit 3"
    assert cells(bb("history", "-H=false", "lfc:1").stdout.decode())[0] == \
        "IMAGE | CREATED AT | CREATED BY | SIZE | COMMENT"
    obj = json.loads(bb("history", "--format", "{{json .}}", "lfc:1").stdout.decode().splitlines()[0])
    assert list(obj) == ["Comment", "CreatedAt", "CreatedBy", "CreatedSince", "ID", "Size"]
    assert bb("history", "-q", "--format", "{{.CreatedBy}}|", "lfc:1").stdout.decode().startswith(
        "sh -c true && exit 3|\n")
    # Size has 3 significant digits, VirtualSize 4 (go-units HumanSize)
    size = int(bb("image", "inspect", "-f", "{{.Size}}", "lfi:one").stdout)
    assert bb("images", "lfi", "--format", "{{.Size}} {{.VirtualSize}}").stdout.decode() == \
        f"{human_size(size)} {human_size(size, 4)}\n"


def test_system_df_like_docker(bb: Any) -> None:
    bb("run", "-d", "--name", "d_run", *NONE, "busybox", "sh", "-c", "head -c 1000 /dev/zero > /f; sleep 600")
    bb("run", "--name", "d_exit", *NONE, "-v", "dfv:/data", "busybox", "sh", "-c",
       "head -c 5000 /dev/zero > /f; head -c 3000 /dev/zero > /data/x")
    bb("volume", "create", "dfv2")
    try:
        size = int(bb("image", "inspect", "-f", "{{.Size}}", "busybox").stdout)
        img = human_size(size, 4)
        out = bb("system", "df").stdout.decode()
        # one image, used: nothing of it is reclaimable; containers: the stopped one's 5000 of 6000 bytes (83%);
        # volumes: the unused one, empty
        assert cells(out) == ["TYPE | TOTAL | ACTIVE | SIZE | RECLAIMABLE",
                              f"Images | 1 | 1 | {img} | 0B (0%)",
                              "Containers | 2 | 1 | 6kB | 5kB (83%)",
                              "Local Volumes | 2 | 1 | 3kB | 0B (0%)",
                              "Build Cache | 0 | 0 | 0B | 0B"]
        rows = [json.loads(ln) for ln in bb("system", "df", "--format", "{{json .}}").stdout.decode().splitlines()]
        assert rows[1] == {"Active": "1", "Reclaimable": "5kB (83%)", "Size": "6kB", "TotalCount": "2",
                           "Type": "Containers"}
        assert all(list(r) == ["Active", "Reclaimable", "Size", "TotalCount", "Type"] for r in rows)
        raw = bb("system", "df", "--format", "raw").stdout.decode()
        assert raw.startswith(f"type: Images\ntotal: 1\nactive: 1\nsize: {img}\nreclaimable: 0B (0%)\n\n")
        verbose = bb("system", "df", "-v").stdout.decode()
        assert cells(normalise(verbose)) == [
            "Images space usage:", "",
            "REPOSITORY | TAG | IMAGE ID | CREATED | SIZE | SHARED SIZE | UNIQUE SIZE | CONTAINERS",
            "busybox | latest | <ID> | <DUR> ago | <SIZE> | <SIZE> | <SIZE> | 2", "",
            "Containers space usage:", "",
            "CONTAINER ID | IMAGE | COMMAND | LOCAL VOLUMES | SIZE | CREATED | STATUS | NAMES",
            "<ID> | busybox | \"sh -c 'head -c 5000…\" | 1 | <SIZE> | <DUR> ago | Exited (0) <DUR> ago | d_exit",
            "<ID> | busybox | \"sh -c 'head -c 1000…\" | 0 | <SIZE> | <DUR> ago | Up <DUR> | d_run", "",
            "Local Volumes space usage:", "",
            "VOLUME NAME | LINKS | SIZE",
            "dfv | 1 | <SIZE>",
            "dfv2 | 0 | <SIZE>", "",
            "Build cache usage: <SIZE>", "",
            "CACHE ID | CACHE TYPE | SIZE | CREATED | LAST USED | USAGE | SHARED"]
        assert f"   {img.ljust(10)}{'0B'.ljust(14)}{img.ljust(14)}2\n" in verbose  # SIZE, SHARED, UNIQUE
        assert "   5kB       " in verbose and "\ndfv           1         3kB\ndfv2          0         0B\n" in verbose
        cp = bb("system", "df", "-v", "--format", "{{.Type}}", check=False)
        assert (cp.returncode, cp.stderr.decode()) == (1, 'Error: template: :1:2: executing "" at <.Type>: '
                                                          "can't evaluate field Type in type "
                                                          "*formatter.diskUsageContext\n")
    finally:
        bb("rm", "-f", "-v", "d_run", "d_exit", check=False)
