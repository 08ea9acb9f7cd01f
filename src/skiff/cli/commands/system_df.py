"""skiff system df: disk usage of images, containers, volumes and build cache (docker/cli's formatter/disk_usage.go:
go-units' HumanSize, 4 significant digits; `-v` lists each kind in its own table)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from skiff.engine.disk_usage import DiskUsage


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", help="Format output using a Go template, or json")
    p.add_argument("-v", "--verbose", action="store_true", help="Show detailed information on space usage")


def _size(n: float) -> str:
    from skiff.cli.commands._fmt import human_size

    return human_size(n, 4)


def _pct(part: int, total: int) -> str:
    """docker/cli: "1.2MB (50%)", the percentage an integer division; no percentage when the total is 0."""
    return _size(part) + (f" ({part * 100 // total}%)" if total > 0 else "")


def summary(du: DiskUsage) -> list[dict[str, Any]]:
    """The four rows (docker/cli's diskUsage{Images,Containers,Volumes,Builder}Context), as --format sees them."""
    return [
        {"_go_type": "*formatter.diskUsageImagesContext", "Type": "Images", "TotalCount": str(len(du.images)),
         "Active": str(du.images_active), "Size": _size(du.layers_size),
         "Reclaimable": _pct(du.images_reclaimable, du.layers_size)},
        {"_go_type": "*formatter.diskUsageContainersContext", "Type": "Containers",
         "TotalCount": str(len(du.containers)), "Active": str(du.containers_active),
         "Size": _size(du.containers_size), "Reclaimable": _pct(du.containers_reclaimable, du.containers_size)},
        {"_go_type": "*formatter.diskUsageVolumesContext", "Type": "Local Volumes",
         "TotalCount": str(len(du.volumes)), "Active": str(du.volumes_active), "Size": _size(du.volumes_size),
         "Reclaimable": _pct(du.volumes_reclaimable, du.volumes_size)},
        {"_go_type": "*formatter.diskUsageBuilderContext", "Type": "Build Cache", "TotalCount": "0",
         "Active": "0", "Size": _size(du.build_cache_size), "Reclaimable": _size(du.build_cache_size)},
    ]


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.cli.commands._fmt import custom_format, table
    from skiff.cli.commands.container_common import engine
    from skiff.engine.disk_usage import disk_usage

    du = disk_usage(engine(opts))
    fmt = custom_format(args.format, raw="system df")
    if args.verbose:
        if fmt:  # docker/cli runs a -v template on the whole report (diskUsageContext), which has no such fields
            from skiff.cli.commands._fmt import render

            print(render(fmt, [{}], go_type="*formatter.diskUsageContext", errors=""))
            return 0
        print(verbose(du))
        return 0
    rows = summary(du)
    if fmt:
        from skiff.cli.commands._fmt import render

        print(render(fmt, rows))
        return 0
    keys = ("Type", "TotalCount", "Active", "Size", "Reclaimable")
    print(table(["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"], [[r[k] for k in keys] for r in rows]))
    return 0


def verbose(du: DiskUsage) -> str:
    """`system df -v`: images (one line per image, under its first name), containers, volumes, build cache."""
    from skiff.cli.commands._fmt import human_size, since, table
    from skiff.cli.commands.container_ps import row
    from skiff.store.images import familiar

    images = []
    for i in du.images:
        repo, tag = "<none>", "<none>"
        if i.names and not i.dangling:
            name, t = familiar(sorted(i.names)[0])
            if t:
                repo, tag = name, t
        images.append([repo, tag, i.id.split(":", 1)[-1][:12], since(i.created), _size(i.size),
                       _size(i.shared_size), _size(i.unique_size), str(i.containers)])
    containers = []
    for c in du.containers:
        r = row(c, True)
        containers.append([r["ID"], r["Image"], r["Command"], r["LocalVolumes"], human_size(c.size_rw or 0),
                           r["RunningFor"], r["Status"], r["Names"]])
    volumes = [[v.name, str(v.links), _size(v.size)] for v in du.volumes]
    return "\n".join([
        "Images space usage:\n",
        table(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS"],
              images),
        "\nContainers space usage:\n",
        table(["CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES", "SIZE", "CREATED", "STATUS", "NAMES"],
              containers),
        "\nLocal Volumes space usage:\n",
        table(["VOLUME NAME", "LINKS", "SIZE"], volumes),
        f"\nBuild cache usage: {_size(du.build_cache_size)}\n",
        table(["CACHE ID", "CACHE TYPE", "SIZE", "CREATED", "LAST USED", "USAGE", "SHARED"], []),
    ])
