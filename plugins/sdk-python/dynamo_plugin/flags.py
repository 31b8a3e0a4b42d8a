"""Adding flags to any container command line: detect existing flags, append to args or a `sh -c` script.

The argv of a container is its `command` followed by its `args`. Words are added in one of two
places:

- when the argv runs a shell script, i.e. its first word's last path segment is `sh` or `bash`
  and the second word is `-c` (`sh -c`, `/bin/bash -c`), they are appended to the script (the
  last word of the argv: in `args` when `args` is non-empty, else in `command`), each preceded by
  one space and POSIX-quoted (`shell_quote`);
- otherwise they are appended to `args` as separate words (creating `args`).

Nothing here is tied to `python -m`: it works for any engine launcher.
"""

from __future__ import annotations

from typing import Iterable

__all__ = [
    "SAFE_CHARS",
    "argv",
    "has_flag",
    "shell_quote",
    "shell_script_index",
    "append_words",
    "add_flag",
]

SAFE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:=@%+,-")
"""Characters a shell word may contain without quoting."""

_SHELLS = ("sh", "bash")


def argv(c: dict | None) -> list[str]:
    """The container's `command` followed by its `args` (empty for None or a bare container)."""
    if c is None:
        return []
    return [*(c.get("command") or []), *(c.get("args") or [])]


def has_flag(words: Iterable[str], flag: str) -> bool:
    """True when `flag` is one of `words`, as the word itself or a word starting with `<flag>=`."""
    prefix = flag + "="
    return any(w == flag or w.startswith(prefix) for w in words)


def shell_quote(word: str) -> str:
    """Quotes one word for a POSIX shell: unchanged when every character is in `SAFE_CHARS`,
    else in single quotes with `'` written as `'"'"'` (an empty word becomes `''`)."""
    if word and all(ch in SAFE_CHARS for ch in word):
        return word
    return "'" + word.replace("'", "'\"'\"'") + "'"


def shell_script_index(words: list[str]) -> int | None:
    """Index of the script when `words` runs `sh -c`/`bash -c` (first word's last path segment
    `sh` or `bash`, second word `-c`): the last word. None otherwise (also with no script word)."""
    if len(words) >= 3 and words[0].rsplit("/", 1)[-1] in _SHELLS and words[1] == "-c":
        return len(words) - 1
    return None


def append_words(c: dict, words: Iterable[str]) -> str:
    """Appends `words` to the container's command line (see the module docs for where).

    Returns `"script"` when they went into a shell script, `"args"` when appended to `args`,
    `"unchanged"` when `words` is empty."""
    words = [str(w) for w in words]
    if not words:
        return "unchanged"
    if shell_script_index(argv(c)) is not None:
        suffix = "".join(" " + shell_quote(w) for w in words)
        target = c["args"] if c.get("args") else c["command"]
        target[-1] = target[-1] + suffix
        return "script"
    args = c.get("args")
    if args is None:
        args = c["args"] = []
    args.extend(words)
    return "args"


def add_flag(c: dict, flag: str, *values: object) -> bool:
    """Appends `flag` and its `values` unless `flag` is already in the argv; returns whether added."""
    if has_flag(argv(c), flag):
        return False
    append_words(c, [flag, *(str(v) for v in values)])
    return True
