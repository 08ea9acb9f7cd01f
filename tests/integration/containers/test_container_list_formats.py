"""The listing commands' --format output against Docker 20.10's (ps, volume ls, network ls, stats, port).

Each case was run on the same containers, volumes and network under a private Docker 20.10.24 daemon, and its
output is written here as Docker printed it, with what differs between any two runs replaced by placeholders
(``normalise``): IDs, times, ages and sizes. A case whose output is a ``list`` is a table compared cell by cell
(the padding depends on the ages); a ``str`` is compared byte for byte. Docker prints its own errors without
skiff's "Error: " prefix, which is added here. Where skiff keeps a later Docker's behaviour on purpose
(``--format json`` prints JSON, Docker 20.10 the word "json"), the case says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from helpers.listing import cells, normalise

NONE = ("--network", "none")


@pytest.fixture(scope="module")
def scene(sk: Any) -> Iterator[Any]:
    """Docker's test scene: a running container with labels, an exited one (3), a created one with a named
    volume, a labelled volume and a labelled network."""
    sk("run", "-d", "--name", "lf_run", *NONE, "-l", "a=1", "-l", "com.example.my-app_tier=web", "busybox",
       "sleep", "1000")
    sk("run", "--name", "lf_exit", *NONE, "busybox", "sh", "-c", "true && exit 3", check=False)
    sk("create", "--name", "lf_created", *NONE, "-v", "lf_vol:/data", "busybox")
    sk("volume", "create", "--label", "x=y", "lf_vol2")
    sk("network", "create", "--label", "n=1", "lf_net")
    try:
        yield sk
    finally:
        sk("rm", "-f", "lf_run", "lf_exit", "lf_created", check=False)
        sk("volume", "rm", "lf_vol", "lf_vol2", check=False)
        sk("network", "rm", "lf_net", check=False)


T = "table {{.Names}}\t{{.Mounts}}\t{{.LocalVolumes}}\t{{.Networks}}\t{{.State}}\t{{.Ports}}\t{{.Size}}"
RAW_CREATED = ("container_id: <ID>\nimage: busybox\ncommand: \"sh\"\ncreated_at: <TIME>\nstate: created\n"
               "status: Created\nnames: lf_created\nlabels:\nports:\n")
RAW_EXITED = ("container_id: <ID>\nimage: busybox\ncommand: \"sh -c 'true && exit…\"\ncreated_at: <TIME>\n"
              "state: exited\nstatus: Exited (3) <DUR> ago\nnames: lf_exit\nlabels:\nports:\n")
JSON_PS = ('{"Command":"\\"sh\\"","CreatedAt":"<TIME>","ID":"<ID>","Image":"busybox","Labels":"",'
           '"LocalVolumes":"1","Mounts":"lf_vol","Names":"lf_created","Networks":"none","Ports":"",'
           '"RunningFor":"<DUR> ago","Size":"<SIZE> (virtual <SIZE>)","State":"created","Status":"Created"}\n'
           '{"Command":"\\"sh -c \'true \\u0026\\u0026 exit…\\"","CreatedAt":"<TIME>","ID":"<ID>",'
           '"Image":"busybox","Labels":"","LocalVolumes":"0","Mounts":"","Names":"lf_exit","Networks":"none",'
           '"Ports":"","RunningFor":"<DUR> ago","Size":"<SIZE> (virtual <SIZE>)","State":"exited",'
           '"Status":"Exited (3) <DUR> ago"}\n')
JSON_VOL = ('{"Driver":"local","Labels":"","Links":"N/A","Mountpoint":"<VOLUMES>/lf_vol/_data","Name":"lf_vol",'
            '"Scope":"local","Size":"N/A"}\n'
            '{"Driver":"local","Labels":"x=y","Links":"N/A","Mountpoint":"<VOLUMES>/lf_vol2/_data",'
            '"Name":"lf_vol2","Scope":"local","Size":"N/A"}\n')


def _exec(t: str, where: str, problem: str, prefix: str = "template parsing error: ") -> str:
    return f'{prefix}template: :1:{where}: executing "" at <{t}>: {problem}\n'


PS_EXEC = "failed to execute template: "
CASES: list[tuple[tuple[str, ...], int, str | list[str], str]] = [
    # {{json .}}: keys sorted, <, > and & escaped, Label (a method with an argument) left out, sizes computed
    (("ps", "-a", "-f", "name=^lf_[ec]", "--format", "{{json .}}"), 0, JSON_PS, ""),
    # Docker 23+ (and podman): "json" is {{json .}}; Docker 20.10 printed the word json on each line
    (("ps", "-a", "-f", "name=^lf_[ec]", "--format", "json"), 0, JSON_PS, ""),
    # a label's header is its key's last dot-separated part, "-" and "_" as spaces; an empty last cell is padded
    (("ps", "-a", "-f", "name=^lf_run$", "--format",
      'table {{.Names}}\t{{.Label "com.example.my-app_tier"}}\t{{.Label "a"}}\t{{.Label "zz"}}'), 0,
     "NAMES     my app tier   a         zz\nlf_run    web           1         \n", ""),
    (("ps", "-a", "-f", "name=^lf_[ec]", "--format", "raw"), 0, RAW_CREATED + "\n" + RAW_EXITED + "\n", ""),
    (("ps", "-a", "-f", "name=^lf_[ec]", "--format", "raw", "-s"), 0,
     RAW_CREATED + "size: <SIZE> (virtual <SIZE>)\n\n" + RAW_EXITED + "size: <SIZE> (virtual <SIZE>)\n\n", ""),
    (("ps", "-a", "-f", "name=^lf_", "--format", "raw", "-q"), 0, "container_id: <ID>\n" * 3, ""),
    # a template of the user's wins over -q; "table" alone is the default table (the IDs with -q)
    (("ps", "-a", "-f", "name=^lf_", "-q", "--format", "{{.Names}}"), 0, "lf_created\nlf_exit\nlf_run\n", ""),
    (("ps", "-a", "-f", "name=^lf_", "-q", "--format", "table"), 0, "<ID>\n" * 3, ""),
    (("ps", "-a", "-f", "name=^lf_", "--format", "table"), 0,
     ["CONTAINER ID | IMAGE | COMMAND | CREATED | STATUS | PORTS | NAMES",
      '<ID> | busybox | "sh" | <DUR> ago | Created | lf_created',
      "<ID> | busybox | \"sh -c 'true && exit…\" | <DUR> ago | Exited (3) <DUR> ago | lf_exit",
      '<ID> | busybox | "sleep 1000" | <DUR> ago | Up <DUR> | lf_run'], ""),
    (("ps", "-a", "-f", "name=^lf_", "-s"), 0,
     ["CONTAINER ID | IMAGE | COMMAND | CREATED | STATUS | PORTS | NAMES | SIZE",
      '<ID> | busybox | "sh" | <DUR> ago | Created | lf_created | <SIZE> (virtual <SIZE>)',
      "<ID> | busybox | \"sh -c 'true && exit…\" | <DUR> ago | Exited (3) <DUR> ago | lf_exit | "
      "<SIZE> (virtual <SIZE>)",
      '<ID> | busybox | "sleep 1000" | <DUR> ago | Up <DUR> | lf_run | <SIZE> (virtual <SIZE>)'], ""),
    (("ps", "-a", "-f", "name=^lf_", "--format", T), 0,
     ["NAMES | MOUNTS | LOCAL VOLUMES | NETWORKS | STATE | PORTS | SIZE",
      "lf_created | lf_vol | 1 | none | created | <SIZE> (virtual <SIZE>)",
      "lf_exit | 0 | none | exited | <SIZE> (virtual <SIZE>)",
      "lf_run | 0 | none | running | <SIZE> (virtual <SIZE>)"], ""),
    # templates are checked before any container is read, so a bad one fails even when nothing matches
    (("ps", "-f", "name=^nomatch$", "--format", "{{.Foo}}"), 1, "",
     _exec(".Foo", "2", "can't evaluate field Foo in type *formatter.ContainerContext", PS_EXEC)),
    (("ps", "-f", "name=^nomatch$", "--format", "{{.ID"), 1, "",
     "failed to parse template: template: :1: unclosed action\n"),
    (("ps", "--format", "{{.Label}}"), 1, "",
     _exec(".Label", "2", "wrong number of args for Label: want 1 got 0", PS_EXEC)),
    (("ps", "-f", "name=^lf_run$", "--format", "{{.Labels.a}}"), 1, "",
     _exec(".Labels.a", "9", "can't evaluate field a in type string", PS_EXEC)),
    (("ps", "-f", "name=^lf_run$", "--format", '{{.Label "a" "b"}}'), 1, "",
     _exec(".Label", "2", "wrong number of args for Label: want 1 got 2", PS_EXEC)),
    (("ps", "-f", "name=^lf_run$", "--format", "{{json .Label}}"), 1, "",
     _exec(".Label", "7", "wrong number of args for Label: want 1 got 0", PS_EXEC)),
    (("volume", "ls", "-f", "name=lf_", "--format", "{{json .}}"), 0, JSON_VOL, ""),
    (("volume", "ls", "-f", "name=lf_", "--format", "json"), 0, JSON_VOL, ""),  # Docker 23+, as ps
    (("volume", "ls", "-f", "name=lf_", "--format",
      'table {{.Name}}\t{{.Label "x"}}\t{{.Driver}}\t{{.Scope}}\t{{.Links}}\t{{.Size}}\t{{.Mountpoint}}'), 0,
     "VOLUME NAME   x         DRIVER    SCOPE     LINKS     SIZE      MOUNTPOINT\n"
     "lf_vol                  local     local     N/A       N/A       <VOLUMES>/lf_vol/_data\n"
     "lf_vol2       y         local     local     N/A       N/A       <VOLUMES>/lf_vol2/_data\n", ""),
    (("volume", "ls", "-f", "name=lf_", "--format", "raw"), 0,
     "name: lf_vol\ndriver: local\n\nname: lf_vol2\ndriver: local\n\n", ""),
    (("volume", "ls", "-f", "name=lf_", "--format", "raw", "-q"), 0, "name: lf_vol\nname: lf_vol2\n", ""),
    (("volume", "ls", "-f", "name=lf_", "-q", "--format", "{{.Driver}}"), 0, "local\nlocal\n", ""),
    (("volume", "ls", "-f", "name=lf_", "--format", "table"), 0,
     "DRIVER    VOLUME NAME\nlocal     lf_vol\nlocal     lf_vol2\n", ""),
    (("volume", "ls", "-f", "name=lf_", "--format", "{{.Foo}}"), 1, "",
     _exec(".Foo", "2", "can't evaluate field Foo in type *formatter.volumeContext")),
    (("volume", "ls", "-f", "name=lf_", "-f", "dangling=maybe"), 1, "", "invalid filter 'dangling=[maybe]'\n"),
    (("network", "ls", "-f", "name=lf_net", "--format", "{{json .}}"), 0,
     '{"CreatedAt":"<TIME>","Driver":"bridge","ID":"<ID>","IPv6":"false","Internal":"false","Labels":"n=1",'
     '"Name":"lf_net","Scope":"local"}\n', ""),
    (("network", "ls", "-f", "name=lf_net", "--format",
      'table {{.Name}}\t{{.Label "n"}}\t{{.IPv6}}\t{{.Internal}}\t{{.CreatedAt}}\t{{.Driver}}\t{{.Scope}}'), 0,
     ["NAME | n | IPV6 | INTERNAL | CREATED AT | DRIVER | SCOPE",
      "lf_net | 1 | false | false | <TIME> | bridge | local"], ""),
    (("network", "ls", "-f", "name=lf_net", "--format", "raw"), 0,
     "network_id: <ID>\nname: lf_net\ndriver: bridge\nscope: local\n\n", ""),
    (("network", "ls", "-f", "name=lf_net", "--format", "raw", "-q"), 0, "network_id: <ID>\n", ""),
    (("network", "ls", "-f", "name=lf_net", "-q", "--format", "{{.Name}}"), 0, "lf_net\n", ""),
    (("network", "ls", "-f", "name=lf_net", "--format", "{{.Foo}}"), 1, "",
     _exec(".Foo", "2", "can't evaluate field Foo in type *network.networkContext")),
    (("stats", "--no-stream", "--format", "{{.Foo}}", "lf_run"), 1, "",
     _exec(".Foo", "2", "can't evaluate field Foo in type *container.statsContext")),
    (("stats", "--no-stream", "--format", "table {{.Container}}\t{{.Name}}\t{{.PIDs}}\t{{.NetIO}}", "lf_run"), 0,
     "CONTAINER   NAME      PIDS      NET I/O\nlf_run      lf_run    1         <SIZE> / <SIZE>\n", ""),
    (("port", "lf_run", "80/"), 1, "", 'strconv.ParseUint: parsing "80/": invalid syntax\n'),
    (("port", "lf_run", "abc"), 1, "", 'strconv.ParseUint: parsing "abc": invalid syntax\n'),
    (("port", "lf_run", "70000"), 1, "", 'strconv.ParseUint: parsing "70000": value out of range\n'),
    (("port", "lf_run", "81-80"), 1, "", "Invalid range specified for the Port: 81-80\n"),
    (("port", "lf_run", "/tcp"), 1, "", "No public port '/tcp' published for lf_run\n"),
    (("port", "lf_run", "80-81"), 1, "", "No public port '80-81/tcp' published for lf_run\n"),
]


@pytest.mark.parametrize(("argv", "rc", "out", "err"), CASES, ids=[" ".join(c[0])[:70] for c in CASES])
def test_like_docker(scene: Any, argv: tuple[str, ...], rc: int, out: str | list[str], err: str) -> None:
    cp = scene(*argv, check=False)
    got_out, got_err = normalise(cp.stdout.decode()), normalise(cp.stderr.decode())
    assert (cp.returncode, got_err) == (rc, "Error: " + err if err else ""), argv
    if isinstance(out, list):
        assert cells(got_out) == out, argv
    else:
        assert got_out == out, argv


def test_stats_json_keys(scene: Any) -> None:
    (line,) = scene.out("stats", "--no-stream", "--format", "{{json .}}", "lf_run").splitlines()
    assert line.startswith('{"BlockIO":')
    assert list(json.loads(line)) == ["BlockIO", "CPUPerc", "Container", "ID", "MemPerc", "MemUsage", "Name",
                                      "NetIO", "PIDs"]
