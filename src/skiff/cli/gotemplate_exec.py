"""Running a parsed Go template: scopes and variables, field lookup the Go way, Go truth."""

from __future__ import annotations

import re
from typing import Any

from skiff import records
from skiff.cli.gotemplate import Node, Operand, Pipeline, Template, TemplateError
from skiff.cli.gotemplate_funcs import GoMap, GoMethod, GoNil, GoStruct, go_print, go_type_name


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class Executor:
    def __init__(self, tmpl: Template) -> None:
        self.source = tmpl.source
        self.funcs = tmpl.funcs
        self.root = tmpl.root
        self.missingkey = tmpl.missingkey
        self._print = go_print

    def execute(self, data: Any) -> str:
        out: list[str] = []
        try:
            self._run(self.root, data, [{"$": data}], out)
        except (_Break, _Continue):
            raise TemplateError("template: {{break}} or {{continue}} outside {{range}}") from None
        return "".join(out)

    def _exec_fail(self, line: int, problem: str) -> TemplateError:
        return TemplateError(f"template: :{line}: {problem}")

    def _fail_at(self, op: Operand, context: str, problem: str) -> TemplateError:
        """Go's ExecError: ``template: :LINE:COL: executing "" at <CONTEXT>: PROBLEM`` (COL counts bytes
        from 0, as Go's ErrorContext does; Docker's templates have the empty name)."""
        before = self.source[:op.pos]
        line = before.count("\n") + 1
        col = len(before.encode()) - (len(before[:before.rfind("\n") + 1].encode()) if "\n" in before else 0)
        return TemplateError(f'template: :{line}:{col}: executing "" at <{context}>: {problem}')

    def _run(self, nodes: list[Node], dot: Any, scopes: list[dict[str, Any]], out: list[str]) -> None:
        for n in nodes:
            k = n.kind
            if k == "text":
                out.append(n.text)
            elif k == "action":
                assert n.pipe is not None
                v = self._pipe(n.pipe, dot, scopes, n.line)
                if not n.pipe.decl:
                    out.append(self._print(v))
            elif k == "if":
                assert n.pipe is not None
                scopes.append({})
                try:
                    cond = self._pipe(n.pipe, dot, scopes, n.line)
                    self._run(n.body if truth(cond) else n.orelse, dot, scopes, out)
                finally:
                    scopes.pop()
            elif k == "with":
                assert n.pipe is not None
                scopes.append({})
                try:
                    v = self._pipe(n.pipe, dot, scopes, n.line)
                    if truth(v):
                        self._run(n.body, v, scopes, out)
                    else:
                        self._run(n.orelse, dot, scopes, out)
                finally:
                    scopes.pop()
            elif k == "range":
                self._range(n, dot, scopes, out)
            elif k == "break":
                raise _Break
            elif k == "continue":
                raise _Continue

    def _range(self, n: Node, dot: Any, scopes: list[dict[str, Any]], out: list[str]) -> None:
        assert n.pipe is not None
        decl, n.pipe.decl = n.pipe.decl, []
        try:
            v = self._pipe(n.pipe, dot, scopes, n.line)
        finally:
            n.pipe.decl = decl
        if v is None or isinstance(v, GoNil):
            pairs: list[tuple[Any, Any]] = []
        elif isinstance(v, dict):
            pairs = [(key, v[key]) for key in sorted(v, key=_sort_key)]
        elif isinstance(v, (list, tuple)):
            pairs = list(enumerate(v))
        elif isinstance(v, int) and not isinstance(v, bool):
            pairs = [(i, i) for i in range(v)]
        else:
            head = n.pipe.commands[-1][0]
            raise self._fail_at(head, " ".join(o.text for o in n.pipe.commands[-1]),
                                f"range can't iterate over {self._print(v)}")
        if not pairs:
            self._run(n.orelse, dot, scopes, out)
            return
        for key, item in pairs:
            scope: dict[str, Any] = {}
            if len(decl) == 1:
                scope[decl[0]] = item
            elif len(decl) == 2:
                scope[decl[0]], scope[decl[1]] = key, item
            scopes.append(scope)
            try:
                self._run(n.body, item, scopes, out)
            except _Break:
                break
            except _Continue:
                continue
            finally:
                scopes.pop()

    def _pipe(self, pipe: Pipeline, dot: Any, scopes: list[dict[str, Any]], line: int) -> Any:
        value: Any = _NOARG
        for cmd in pipe.commands:
            value = self._command(cmd, dot, scopes, line, value)
        for name in pipe.decl:
            if pipe.assign:
                for sc in reversed(scopes):
                    if name in sc:
                        sc[name] = value
                        break
                else:
                    raise self._exec_fail(line, f"undefined variable: {name}")
            else:
                scopes[-1][name] = value
        return value

    def _command(self, cmd: list[Operand], dot: Any, scopes: list[dict[str, Any]], line: int, piped: Any) -> Any:
        head = cmd[0]
        args = [self._arg(a, dot, scopes, line) for a in cmd[1:]]
        if piped is not _NOARG:
            args.append(piped)
        if head.kind == "ident":
            try:
                return self.funcs[head.value](*args)
            except TemplateError:
                raise
            except (TypeError, ValueError, KeyError, IndexError, AttributeError) as e:
                raise self._fail_at(head, " ".join(o.text for o in cmd),
                                    f"error calling {head.value}: {_reason(e)}") from None
        if head.kind in ("field", "var") and args:
            target = self._arg(Operand(head.kind, head.value, head.fields[:-1]), dot, scopes, line) \
                if head.fields else None
            if head.fields:
                try:
                    fn = lookup(target, head.fields[-1], call=False, missingkey=self.missingkey)
                except LookupError as e:
                    raise self._fail_at(head, head.text, _reason(e)) from None
                if isinstance(fn, GoMethod) and len(args) != fn.nargs:
                    raise self._fail_at(head, head.text, fn.arity_error(len(args)))
                if callable(fn):
                    try:
                        return fn(*args)
                    except (TypeError, ValueError) as e:
                        raise self._fail_at(head, head.text, f"error calling {head.fields[-1]}: {e}") from None
            raise self._fail_at(head, head.text, f"can't give argument to non-function {self._describe(head)}")
        if args:
            raise self._fail_at(head, head.text, f"can't give argument to non-function {self._describe(head)}")
        return self._arg(head, dot, scopes, line)

    @staticmethod
    def _describe(op: Operand) -> str:
        if op.kind == "field":
            return "." + ".".join(op.fields)
        if op.kind == "var":
            return ".".join([op.value, *op.fields])
        return repr(op.value)

    def _arg(self, op: Operand, dot: Any, scopes: list[dict[str, Any]], line: int) -> Any:
        k = op.kind
        if k == "field":
            base = dot
        elif k == "dot":
            return dot
        elif k == "var":
            for sc in reversed(scopes):
                if op.value in sc:
                    base = sc[op.value]
                    break
            else:
                raise self._exec_fail(line, f"undefined variable: {op.value}")
        elif k == "pipe":
            base = self._pipe(op.value, dot, scopes, line)
        elif k == "nil":
            return None
        elif k == "ident":
            return self.funcs[op.value]()
        else:
            return op.value
        for name in op.fields:
            try:
                base = lookup(base, name, missingkey=self.missingkey)
            except LookupError as e:
                raise self._fail_at(op, op.text, _reason(e)) from None
            if isinstance(base, GoMethod):
                raise self._fail_at(op, op.text, base.arity_error(0))
        return base



class _NoArg:
    pass


_NOARG = _NoArg()


def _sort_key(k: Any) -> tuple[str, Any]:
    return (type(k).__name__, k)


def _reason(e: BaseException) -> str:
    return str(e.args[0]) if isinstance(e, LookupError) and e.args else str(e)


def truth(v: Any) -> bool:
    """Go's template truth: false, 0, nil and empty strings, lists and maps are false."""
    if v is None or isinstance(v, GoNil):
        return False
    if isinstance(v, (bool, int, float, str, bytes, list, tuple, dict, set)):
        return bool(v)
    return True


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def lookup(value: Any, name: str, *, call: bool = True, missingkey: str = "default") -> Any:
    """``value.name`` the Go way: a map key, a struct field (Go or JSON name), or a niladic method.

    A missing key of a plain dict (a ``map[string]interface{}``) is nil, or with ``missingkey="error"`` Go's
    ``map has no entry for key`` error; a :class:`GoStruct` without the field is always an error, a
    :class:`GoMap` never (see gotemplate_funcs)."""
    if value is None:
        return None
    if isinstance(value, GoNil):
        if value.kind == "map" and missingkey != "error":
            return None
        raise LookupError(f"map has no entry for key \"{name}\"" if value.kind == "map" else
                          f"can't evaluate field {name} in type []interface {{}}")
    if isinstance(value, dict):
        if name in value:
            return value[name]
        if isinstance(value, GoStruct):
            raise LookupError(value.missing(name))
        if missingkey == "error" and not isinstance(value, GoMap):
            raise LookupError(f"map has no entry for key \"{name}\"")
        return None
    if records.is_dataclass(value) and not isinstance(value, type):
        for f in records.fields(value):
            if f.name == name or f.metadata.get("json") == name:
                return getattr(value, f.name)
        snake = _snake(name)
        for f in records.fields(value):
            if f.name == snake:
                return getattr(value, f.name)
    for attr in (name, _snake(name)):
        if not attr.startswith("_") and hasattr(value, attr):
            got = getattr(value, attr)
            if call and callable(got) and not isinstance(got, type):
                return got()
            return got
    raise LookupError(f"can't evaluate field {name} in type {go_type_name(value)}")
