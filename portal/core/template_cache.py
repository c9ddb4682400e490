"""Compiled templates shared by every app this process builds: a template is compiled once per
process instead of once per app (the development server builds both faces; a test run builds
hundreds of apps, which spent about 20 s compiling the same templates again).

Jinja keys its bytecode cache on the template's name and file and checks the source's
checksum; it does not see how the environment compiles (extensions, delimiters, whitespace
options). The key here adds those, read when the template is loaded, so two differently
configured environments never share code."""
from __future__ import annotations

import threading

from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from jinja2.environment import Environment


def _how_it_compiles(env: Environment) -> tuple:
    return (tuple(sorted(env.extensions)), getattr(env, "newstyle_gettext", None), env.block_start_string,
            env.block_end_string, env.variable_start_string, env.variable_end_string, env.comment_start_string,
            env.comment_end_string, env.line_statement_prefix, env.line_comment_prefix, env.trim_blocks,
            env.lstrip_blocks, env.newline_sequence, env.keep_trailing_newline, env.optimized,
            callable(env.autoescape) or env.autoescape, type(env).__qualname__)


class _SharedCache(BytecodeCache):
    """Bytecode in memory, for the life of the process."""

    def __init__(self) -> None:
        self._code: dict[tuple, bytes] = {}
        self._lock = threading.Lock()

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get((_how_it_compiles(bucket.environment), bucket.key))
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        with self._lock:
            self._code[(_how_it_compiles(bucket.environment), bucket.key)] = bucket.bytecode_to_string()


_shared = _SharedCache()


def share_compiled_templates(app) -> None:
    """Let `app`'s templates be compiled once for the whole process."""
    app.jinja_env.bytecode_cache = _shared
