"""Pure Dockerfile handling: text -> AST (parser), AST -> typed stages (instructions), words and
``$VAR`` (lex), ``.dockerignore`` (ignore) and habit checks (checks). No I/O apart from reading
ignore files and walking a build context in ``ignore``."""
