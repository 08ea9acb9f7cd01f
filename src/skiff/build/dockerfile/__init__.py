"""The pure front half of the builder: Dockerfile text -> typed, expandable instructions.

Pipeline (each step usable and tested on its own, as in BuildKit):

- :func:`parser.parse` ``(text | bytes, *, filename="Dockerfile") -> ParseResult``: AST of
  :class:`parser.Node` (keyword, raw args, flags, JSON form, heredocs, ONBUILD trigger, start/end
  lines, original text), plus directives, escape character and warnings. ``ParseResult.dump()``
  is BuildKit's parse dump.
- :func:`instructions.parse` ``(ParseResult) -> (stages, meta_args)``: frozen dataclasses from
  :mod:`commands`, one per instruction, each with ``filename``, ``line``, ``end_line``, ``original``.
- :func:`instructions.expand` ``(command, env, *, escape) -> Expansion``: ``$VAR`` substitution
  where Docker does it, with the variable names looked up; :class:`args.BuildArgs` applies the
  global/stage ARG scoping rules.
- :class:`lex.ShellLex` ``(escape)``: ``process_word``, ``process_words``, ``process`` (with
  matched/unmatched names).
- :class:`ignore.DockerIgnore`: ``.dockerignore`` matching and a pruning context walk.
- :func:`checks.check_dockerfile`, :func:`checks.check_context`, :func:`checks.exposed_ports`:
  habit checks with silenceable ids.

Every error is a :class:`errors.DockerfileError` (``FILE:LINE: what``, exit code 1).
"""
