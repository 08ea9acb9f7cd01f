"""Docker's `network create` options beyond subnet and gateway, checked as Docker's CLI and bridge driver
check them: ``--ip-range``, ``--aux-address``, ``-o`` bridge options (moby's bridge ``fromLabels``) and the
IPv4 literals they hold. Pure functions: the messages are Docker's, for one error line each."""

from __future__ import annotations

import ipaddress

from skiff.errors import InvalidArgumentError
from skiff.network.model import OPT_BRIDGE_NAME, OPT_HOST_IP, OPT_ICC, OPT_MASQ, OPT_MTU
from skiff.records import dataclass, field

GO_TRUE = ("1", "t", "T", "TRUE", "true", "True")
GO_FALSE = ("0", "f", "F", "FALSE", "false", "False")


@dataclass(frozen=True)
class NetworkSettings:
    """The create options a network record keeps besides subnet, gateway, internal and labels."""

    ip_range: str = ""
    aux_addresses: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    ipam_options: dict[str, str] = field(default_factory=dict)
    attachable: bool = False
    config_only: bool = False
    config_from: str = ""


def parse_go_bool(value: str) -> bool | None:
    """Go's strconv.ParseBool: True, False, or None for anything else."""
    return True if value in GO_TRUE else False if value in GO_FALSE else None


def _parse_err(label: str, value: str, why: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"failed to parse {label} value: {value} ({why})")


def check_bridge_options(opts: dict[str, str]) -> None:
    """moby's bridge networkConfiguration.fromLabels and Validate: the options the bridge driver reads must
    parse (others are kept as given and ignored)."""
    for key, value in opts.items():
        if key == OPT_MTU:
            try:
                mtu = int(value, 10)
            except ValueError:
                raise _parse_err(key, value, f'strconv.Atoi: parsing "{value}": invalid syntax') from None
            if mtu < 0 or 0 < mtu < 68 or mtu > 65535:
                raise InvalidArgumentError(f"invalid MTU number: {mtu}")
        elif key in (OPT_ICC, OPT_MASQ):
            if parse_go_bool(value) is None:
                raise _parse_err(key, value, f'strconv.ParseBool: parsing "{value}": invalid syntax')
        elif key == OPT_HOST_IP:
            try:
                ipaddress.ip_address(value)
            except ValueError:
                raise _parse_err(key, value, "nil ip") from None
            if ipaddress.ip_address(value).version != 4:
                raise InvalidArgumentError(f"{key} {value}: skiff publishes ports on IPv4 addresses only")
        elif key == OPT_BRIDGE_NAME:
            if not value or len(value) > 15 or value in (".", "..") or any(c in value for c in "/: \t\n"):
                raise InvalidArgumentError(f"invalid bridge name {value!r}: an interface name of 1-15 "
                                           "characters, without '/', ':' or spaces")


def parse_ip_range(text: str) -> ipaddress.IPv4Network:
    """``--ip-range`` as pflag's IPNet flag reads it (host bits dropped)."""
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise InvalidArgumentError(f'invalid argument "{text}" for "--ip-range" flag: invalid string being '
                                   f"converted to CIDR: {text}") from None
    if net.version != 4:
        raise InvalidArgumentError(f"--ip-range {text}: skiff's networks are IPv4 only")
    return net


def ipam_config(subnet: str | None, ip_range: str | None, aux: list[str]) -> tuple[str, dict[str, str]]:
    """docker/cli's createIPAMConfig for one subnet: the range and the reserved addresses (name -> IP), each
    inside the subnet; Docker's errors otherwise."""
    if ip_range and not subnet:
        raise InvalidArgumentError("every ip-range or gateway must have a corresponding subnet")
    net = None
    if subnet and (ip_range or aux):
        try:
            net = ipaddress.ip_network(subnet, strict=False)
        except ValueError:
            raise InvalidArgumentError(f"invalid subnet: invalid CIDR address: {subnet}") from None
    rng = ""
    if ip_range:
        r = parse_ip_range(ip_range)
        if net is None or r.network_address not in net:
            raise InvalidArgumentError(f"no matching subnet for range {r}")
        rng = str(r)
    out: dict[str, str] = {}
    for item in aux:
        key, _, value = item.partition("=")
        try:
            addr = ipaddress.ip_address(value)
        except ValueError:
            raise InvalidArgumentError(f'ParseAddr("{value}"): unable to parse IP') from None
        if net is None or addr not in net:
            raise InvalidArgumentError(f"no matching subnet for aux-address {value}")
        out[key] = str(addr)
    return rng, out


def key_values(items: list[str]) -> dict[str, str]:
    """docker/cli's MapOpts: ``k=v`` (``k`` alone is ``k=``), the last one for a key counts."""
    out: dict[str, str] = {}
    for item in items:
        k, _, v = item.partition("=")
        out[k] = v
    return out
