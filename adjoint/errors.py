"""The errors users see. Each one that concerns user code carries a source location."""


class Loc:
    """A place in user source: file, 1-based line, 0-based column, and the line's text."""

    __slots__ = ("file", "line", "col", "text")

    def __init__(self, file, line, col, text=""):
        self.file, self.line, self.col, self.text = file, line, col, text

    @property
    def key(self):
        return (self.file, self.line)

    def short(self):
        import os
        return "%s:%d" % (os.path.basename(self.file), self.line)

    def __repr__(self):
        return "Loc(%s:%d:%d)" % (self.file, self.line, self.col)


def shown_path(path):
    """A file as the user would type it: relative to the current folder when it is inside it."""
    import os
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return rel if not rel.startswith(os.pardir + os.sep) and rel != os.pardir else path


class AdjointError(Exception):
    """Base of every error raised by adjoint."""


class SourceError(AdjointError):
    """Something in user code that adjoint cannot compile, with where and what to do."""

    def __init__(self, message, loc=None, hint=None):
        self.message, self.loc, self.hint = message, loc, hint
        super().__init__(self._render())

    def _render(self):
        parts = []
        if self.loc is not None:
            parts.append("%s:%d:%d: %s" % (shown_path(self.loc.file), self.loc.line, self.loc.col + 1,
                                           self.message))
            if self.loc.text:
                parts.append("    " + self.loc.text.rstrip())
                parts.append("    " + " " * self._caret_col() + "^")
        else:
            parts.append(self.message)
        if self.hint:
            parts.append("hint: " + self.hint)
        return "\n".join(parts)

    def _caret_col(self):
        text = self.loc.text
        stripped = len(text) - len(text.lstrip())
        return max(self.loc.col, stripped)


class UnsupportedError(SourceError):
    """User code uses a construct adjoint does not compile. May hold several problems."""

    def __init__(self, problems):
        # problems: list of SourceError
        self.problems = list(problems)
        first = self.problems[0]
        self.message, self.loc, self.hint = first.message, first.loc, first.hint
        Exception.__init__(self, self._render_all())

    def _render_all(self):
        if len(self.problems) == 1:
            return self.problems[0]._render()
        head = "%d unsupported constructs:" % len(self.problems)
        return "\n".join([head] + [p._render() for p in self.problems])


class ArgumentError(AdjointError, TypeError):
    """A gradient function was called with arguments that do not fit."""


class GradRuntimeError(AdjointError):
    """Generated code failed at run time; the message names the user's line."""


class RunTimeRefusal(ValueError):
    """A check in generated code found what adjoint does not follow in this call (an item
    assignment into an array another name views). Not an AdjointError itself: the call
    raises it as the cause of a GradRuntimeError that names the user's line."""
