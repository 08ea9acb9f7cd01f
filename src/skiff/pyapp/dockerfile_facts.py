"""What a Dockerfile's final stage says about serving: its EXPOSEd ports, ENV names and the command the
container runs, read from skiff.build.dockerfile's AST."""

from __future__ import annotations

import shlex

from skiff.build.dockerfile.parser import Node, ParseResult
from skiff.records import dataclass


@dataclass(frozen=True)
class ServeFacts:
    """What a Dockerfile's final stage says about serving: EXPOSEd ports, ENV names, the command it runs."""

    expose: tuple[tuple[str, int], ...] = ()  # (word, line) per EXPOSE word
    expose_lines: tuple[int, ...] = ()
    env: frozenset[str] = frozenset()  # ENV names set in the final stage
    argv: tuple[str, ...] = ()  # ENTRYPOINT + CMD of the final stage
    cmd_line: int = 0  # the line of the CMD (or ENTRYPOINT) that decides what runs
    stages: int = 0


def _argv(node: Node) -> list[str]:
    if node.json:
        return list(node.args)
    try:
        return shlex.split(" ".join(node.args))
    except ValueError:
        return list(node.args)


def serve_facts(parsed: ParseResult) -> ServeFacts:
    final: list[Node] = []
    stages = 0
    for node in parsed.nodes:
        if node.keyword == "from":
            final, stages = [], stages + 1
        else:
            final.append(node)
    expose: list[tuple[str, int]] = []
    lines: list[int] = []
    env: set[str] = set()
    entrypoint: list[str] = []
    cmd: list[str] = []
    cmd_line = 0
    for node in final:
        if node.keyword == "expose":
            expose += [(w, node.start_line) for w in " ".join(node.args).split()]
            lines.append(node.start_line)
        elif node.keyword == "env":
            env.update(node.args[i] for i in range(0, len(node.args), 3))
        elif node.keyword == "entrypoint":
            entrypoint, cmd, cmd_line = _argv(node), [], node.start_line  # ENTRYPOINT resets CMD
        elif node.keyword == "cmd":
            cmd, cmd_line = _argv(node), node.start_line
    return ServeFacts(tuple(expose), tuple(lines), frozenset(env), tuple(entrypoint + cmd), cmd_line, stages)
