"""The examples in README.md and docs/*.md run, and print what the documents say they print.

Markup (HTML comments, invisible when the Markdown is rendered), each right before a fenced block:

    <!-- doc: file model.py -->   the block is saved as model.py (for later blocks to import)
    <!-- doc: run use.py -->      the block is saved as use.py and run; the next fenced block is
                                  what it prints
    <!-- doc: shell -->           a session: each `$ command` line runs (in bash, in the same
                                  folder), and the lines after it are what it prints
    <!-- doc: run use.py needs torch -->   as run, but only where the module `torch` imports
                                  (an optional library: skipped, and its output not checked,
                                  without it)

All blocks of one document share one temporary folder, in order. ``ADJOINT_UPDATE_DOCS=1``
rewrites the expected outputs from a real run (review the diff).
"""
import importlib.util
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = ["README.md"] + sorted(os.path.join("docs", f) for f in os.listdir(os.path.join(ROOT, "docs"))
                              if f.endswith(".md"))
MARK = re.compile(r"<!-- doc: (file|run|shell)\s*(\S*)\s*(?:needs\s+(\S+)\s*)?-->")
FENCE = re.compile(r"^```[a-z]*\n(.*?)^```\n", re.S | re.M)


def _blocks(text):
    """[(kind, name, code span, expected-output span or None)] in document order; a block whose
    ``needs`` module is not installed is left out."""
    out = []
    for m in MARK.finditer(text):
        code = FENCE.search(text, m.end())
        expected = FENCE.search(text, code.end()) if m.group(1) == "run" else None
        if m.group(3) and importlib.util.find_spec(m.group(3)) is None:
            continue
        out.append((m.group(1), m.group(2), code.span(1), expected.span(1) if expected else None))
    return out


def _env():
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env["COLUMNS"] = "100"
    for key in ("ADJOINT_CHECK", "ADJOINT_GENERATED_DIR", "ADJOINT_TRACEBACK"):
        env.pop(key, None)
    return env


def _run(args, cwd, shell=False):
    """(what the command prints, stdout and stderr as they come, and its exit status)."""
    done = subprocess.run(args, cwd=cwd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=300, shell=shell, executable="/bin/bash" if shell else None)
    return done.stdout, done.returncode


def _shell(code, cwd):
    """Run each `$ command` (`echo $?` shows the previous one's status); return the session as
    it reads with the real outputs."""
    lines, status = [], 0
    for line in code.splitlines():
        if not line.startswith("$ "):
            continue
        lines.append(line)
        if line.strip() == "$ echo $?":
            out = "%d\n" % status
        else:
            out, status = _run(line[2:], cwd, shell=True)
        lines.extend(out.rstrip("\n").splitlines())
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("doc", DOCS)
def test_examples_print_what_the_document_says(doc, tmp_path):
    path = os.path.join(ROOT, doc)
    with open(path) as fh:
        text = fh.read()
    blocks = _blocks(text)
    if not blocks:
        pytest.skip("%s has no executable examples" % doc)
    edits, stale = [], []
    for kind, name, (c0, c1), expected in blocks:
        code = text[c0:c1]
        if kind == "shell":
            got = _shell(code, tmp_path)
            if got != code:
                edits.append((c0, c1, got))
                stale.append("%s: the shell session\n%s\nnow prints\n%s" % (doc, code, got))
            continue
        with open(tmp_path / name, "w") as fh:
            fh.write(code)
        if kind == "run":
            got = _run([sys.executable, name], tmp_path)[0]
            e0, e1 = expected
            if got != text[e0:e1]:
                edits.append((e0, e1, got))
                stale.append("%s: %s prints\n%s\ninstead of\n%s" % (doc, name, got, text[e0:e1]))
    if edits and os.environ.get("ADJOINT_UPDATE_DOCS"):
        for a, b, new in sorted(edits, reverse=True):
            text = text[:a] + new + text[b:]
        with open(path, "w") as fh:
            fh.write(text)
        return
    assert not stale, "\n\n".join(stale) + "\n(refresh on purpose: ADJOINT_UPDATE_DOCS=1)"
