"""docker/cli's ``inspect.Inspect``, shared by every ``inspect`` command: no format (indented JSON array),
``json`` (compact array) or a Go template run once per object.

A template that does not parse exits 64 (docker/cli's StatusError) before any object is looked up. Docker runs
the template on its typed Go structs, and when a field does not exist there, again on the raw JSON with
``missingkey=error``; skiff runs it once on a typed view of the JSON (:func:`typed`): objects are structs
(a missing field fails with ``map has no entry for key "Bogus"``), free-form maps such as ``Labels`` are Go
maps (a missing key is ``<no value>``, ``index`` gives ``""``), and nil slices, maps and pointers print
``[]``, ``map[]`` and ``<nil>``. When nothing was printed (every name missing) a template prints an empty line, as Docker's does.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from skiff.cli.gotemplate import Template, TemplateError
from skiff.cli.gotemplate_funcs import GoMap, GoNil, GoStruct

# Fields of Docker's structs that are Go maps (not structs), with the zero value of their elements
_MAPS: dict[str, Any] = {"Labels": "", "Options": "", "DriverOpts": "", "Data": "", "Sysctls": "",
                         "StorageOpt": "", "Annotations": "", "Tmpfs": "", "Status": "", "Volumes": {},
                         "ExposedPorts": {}, "Ports": GoNil("slice"), "PortBindings": GoNil("slice"),
                         "Networks": None, "Containers": None}
# Fields that are Go slices: a JSON null there is a nil slice, printed "[]"
_SLICES = frozenset({
    "Args", "Entrypoint", "Cmd", "Env", "OnBuild", "Shell", "Binds", "Dns", "DnsOptions", "DnsSearch",
    "ExtraHosts", "CapAdd", "CapDrop", "GroupAdd", "Links", "SecurityOpt", "Devices", "Ulimits", "ExecIDs",
    "Mounts", "Layers", "RepoTags", "RepoDigests", "Aliases", "DNSNames", "MaskedPaths", "ReadonlyPaths",
    "BlkioWeightDevice", "BlkioDeviceReadBps", "BlkioDeviceWriteBps", "BlkioDeviceReadIOps",
    "BlkioDeviceWriteIOps", "DeviceCgroupRules", "DeviceRequests", "VolumesFrom", "SecondaryIPAddresses",
    "SecondaryIPv6Addresses", "Test", "ConsoleSize"})
# (parent field, field) pairs whose kind differs from the table above
_SPECIAL = {("LogConfig", "Config"): "map", ("IPAM", "Config"): "slice"}
# Fields Docker's JSON leaves out when empty (omitempty) but its typed structs always have, with Go's zero
# value, so that `{{.State.Health}}` prints <nil> and `{{if .Config.Healthcheck}}` is false, as in Docker
_OMITTED: dict[str, dict[str, Any]] = {
    "State": {"Health": GoNil("ptr")},
    "Config": {"ExposedPorts": GoNil("map"), "Healthcheck": GoNil("ptr"), "ArgsEscaped": False,
               "NetworkDisabled": False, "MacAddress": "", "StopSignal": "", "StopTimeout": GoNil("ptr"),
               "Shell": GoNil("slice")},
    "HostConfig": {"Annotations": GoNil("map"), "StorageOpt": GoNil("map"), "Tmpfs": GoNil("map"),
                   "Sysctls": GoNil("map")},
}


def typed(value: Any, key: str = "", parent: str = "") -> Any:
    """The JSON ``value`` of field ``key`` (inside ``parent``) as Go would hold it (see module docstring)."""
    kind = _SPECIAL.get((parent, key)) or ("map" if key in _MAPS else "slice" if key in _SLICES else "")
    if value is None:  # a struct field of another type that is null is a nil pointer (PidsLimit, Init...)
        return GoNil(kind or "ptr") if key else None
    if isinstance(value, dict):
        if kind == "map":
            return GoMap({k: typed(v, "", key) for k, v in value.items()}, zero=_MAPS.get(key, ""))
        fields = {k: typed(v, k, key) for k, v in value.items()}
        zeros = {k: z for k, z in _OMITTED.get(key, {}).items() if k not in fields}
        return GoStruct({**fields, **zeros}, omit=frozenset(zeros)) if zeros else GoStruct(fields)
    if isinstance(value, list):
        return [typed(v, "", key) for v in value]
    return value


class Inspector:
    """Collects the objects of one ``inspect`` and prints them the way docker/cli does."""

    def __init__(self, fmt: str | None) -> None:
        self.fmt = fmt or ""
        self.template: Template | None = None
        if self.fmt and self.fmt != "json":
            try:
                self.template = Template(self.fmt, missingkey="error")
            except TemplateError as e:
                e.exit_code = 64
                raise
        self.objects: list[Any] = []
        self.lines: list[str] = []
        self.errors: list[str] = []

    def add(self, obj: Any) -> None:
        if self.template is None:
            self.objects.append(obj)
            return
        try:
            self.lines.append(self.template.execute(typed(obj)) + "\n")
        except TemplateError as e:
            msg = e.message
            self.errors.append(msg if msg.startswith("template parsing error") else f"template parsing error: {msg}")

    def missing(self, message: str) -> None:
        """An object that was not found: ``message`` is printed (as given) after the output."""
        self.errors.append(message)

    def flush(self) -> int:
        """Print the output, then the errors; the exit code (1 after any error)."""
        if self.template is not None:
            sys.stdout.write("".join(self.lines) or "\n")
        elif self.fmt == "json":
            print(json.dumps(self.objects, separators=(",", ":")))
        else:
            print(json.dumps(self.objects, indent=4))
        sys.stdout.flush()
        for e in self.errors:
            print(e, file=sys.stderr)
        return 1 if self.errors else 0
