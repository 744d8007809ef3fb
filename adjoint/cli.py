"""The ``adjoint`` command line: ``adjoint dump FILE.py:NAME`` prints a generated adjoint.

    adjoint dump model.py:Net                 # the adjoint of Net().construct
    adjoint dump model.py:Net --get-by-list   # gradients of Net's trainable Parameters
    adjoint dump model.py:Dense --init "3, 4" # a Cell whose constructor takes arguments
    adjoint dump model.py:loss --get-all      # a plain function
    adjoint dump model.py:Net --ir            # the SSA IR before and after differentiation

NAME is a Cell subclass (constructed without arguments, or with ``--init``), a Cell instance
defined at module level, or a plain function. Every failure is one message on stderr and a
non-zero exit status: 2 for a bad invocation, 1 when the code does not compile.
"""
import argparse
import difflib
import importlib.machinery
import importlib.util
import inspect
import os
import re
import sys
import types

EXIT_OK, EXIT_COMPILE, EXIT_USAGE = 0, 1, 2

_PREFIX = "adjoint: error: "


class CLIError(Exception):
    """A failure to report as one message; ``code`` is the exit status."""

    def __init__(self, message, code=EXIT_USAGE):
        super().__init__(message)
        self.message, self.code = message, code


# -- argument parsing --------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    """argparse, but reporting errors the way the rest of the CLI does (and not exiting)."""

    def error(self, message):
        raise CLIError("%s (see '%s --help')" % (message, self.prog))


def _version():
    from . import __version__
    return __version__


def build_parser():
    parser = _Parser(prog="adjoint",
                     description="adjoint: a source-to-source automatic-differentiation compiler "
                                 "for Python/NumPy with MindSpore's autodiff API.")
    parser.add_argument("--version", action="version", version="adjoint " + _version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    dump = sub.add_parser(
        "dump", help="print the generated adjoint of a Cell or function",
        description="Print the generated adjoint of a Cell or a plain function: the Python\n"
                    "module GradOperation compiles for it (or its IR with --ir). The gradient\n"
                    "is compiled for example arguments that are all Tensors.",
        epilog="examples:\n"
               "  adjoint dump model.py:Net\n"
               "  adjoint dump model.py:Net --get-by-list --sens\n"
               "  adjoint dump model.py:Dense --init \"3, hidden=4\"\n"
               "  adjoint dump model.py:loss_fn --get-all --ir\n"
               "  adjoint dump model.py:loss_fn --jvp",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    dump.add_argument("target", metavar="FILE.py:NAME",
                      help="a Python file and, after a colon, the Cell class, Cell instance or "
                           "function in it (NAME may be dotted, e.g. Outer.Inner)")
    dump.add_argument("--init", metavar="ARGS", default=None,
                      help="constructor arguments for a Cell class, written as in a call and "
                           "evaluated in the file's namespace, e.g. --init \"3, hidden=4\"")
    dump.add_argument("--get-all", action="store_true",
                      help="GradOperation(get_all=True): gradients of every input")
    dump.add_argument("--get-by-list", action="store_true",
                      help="GradOperation(get_by_list=True) with the Cell's trainable_params()")
    dump.add_argument("--sens", action="store_true",
                      help="GradOperation(sens_param=True): the output's gradient is an argument")
    dump.add_argument("--jvp", action="store_true",
                      help="forward mode: the tangent code (ops.jvp with respect to every input)")
    dump.add_argument("--ir", action="store_true",
                      help="print the SSA IR (before and after differentiation) instead of the "
                           "generated Python")
    dump.add_argument("--no-opt", action="store_true",
                      help="compile without the optimisation passes")
    dump.add_argument("--color", "--colour", choices=("auto", "always", "never"), default="auto",
                      help="syntax-colour the output: 'auto' (the default) colours when writing to "
                           "a terminal and pygments is installed")
    dump.set_defaults(run=_dump)
    return parser


# -- entry point -------------------------------------------------------------------------------
def main(argv=None):
    """Run the command line; return the exit status (``sys.exit(main())``)."""
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:          # --help and --version
            return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if getattr(args, "run", None) is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return args.run(args)
    except CLIError as exc:
        _report(exc.message)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _broken_pipe()


def _report(message):
    sys.stderr.write(_PREFIX + message.rstrip("\n") + "\n")
    sys.stderr.flush()


# -- dump --------------------------------------------------------------------------------------
def _dump(args):
    path, name = _split_target(args.target)
    module = load_module(path)
    obj, owner = _resolve(module, path, name)
    if owner is not None:       # Net.construct (or another method of a Cell class): of an instance
        cell = _make_target(owner, name.rpartition(".")[0], path, module, args.init)
        target = cell if obj is type(cell).construct else getattr(cell, name.rpartition(".")[2])
    else:
        target = _make_target(obj, name, path, module, args.init)
    text = _compile(target, name, args)
    if not text.endswith("\n"):
        text += "\n"
    return _write(text, _use_color(args.color))


def _split_target(spec):
    path, sep, name = spec.rpartition(":")
    if not sep or not path:
        raise CLIError("expected FILE.py:NAME, got %r (the file, a colon, then the Cell or "
                       "function in it)" % spec)
    name = name.strip()
    if not name or not all(part.isidentifier() for part in name.split(".")):
        raise CLIError("expected FILE.py:NAME, got %r: %r is not a Python name" % (spec, name))
    return path, name


def _module_name(path):
    stem = re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0]) or "module"
    if stem[0].isdigit():
        stem = "_" + stem
    # Never replace a module that is already imported (a file called numpy.py, say).
    return stem if stem not in sys.modules else "_adjoint_cli_" + stem


def load_module(path):
    """Import ``path`` as a module, its directory first on sys.path (like ``python path``)."""
    if not os.path.exists(path):
        raise CLIError("%s: no such file" % path)
    if os.path.isdir(path):
        raise CLIError("%s: is a directory, not a Python file" % path)
    path = os.path.abspath(path)
    directory = os.path.dirname(path)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    name = _module_name(path)
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    stdout, sys.stdout = sys.stdout, sys.stderr     # what the file prints is not the dump
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(name, None)
        where = "%s:%s" % (exc.filename or path, exc.lineno) if exc.lineno else (exc.filename or path)
        raise CLIError("%s: SyntaxError: %s" % (where, exc.msg), EXIT_COMPILE) from None
    except SystemExit as exc:
        sys.modules.pop(name, None)
        raise CLIError("%s called sys.exit(%r) while being loaded" % (path, exc.code),
                       EXIT_COMPILE) from None
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except BaseException as exc:
        sys.modules.pop(name, None)
        raise CLIError("%s: %s while loading %s" % (_where(exc, path), _describe(exc), path),
                       EXIT_COMPILE) from None
    finally:
        sys.stdout = stdout
    return module


def _where(exc, path=None):
    """'file:line' of the innermost frame in ``path`` (else the innermost frame at all)."""
    tb, found, last = exc.__traceback__, None, None
    while tb is not None:
        here = (tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        last = here
        if path is not None and os.path.abspath(here[0]) == path:
            found = here
        tb = tb.tb_next
    loc = found or last
    return "%s:%d" % loc if loc else (path or "?")


def _describe(exc):
    text = str(exc)
    return "%s: %s" % (type(exc).__name__, text) if text else type(exc).__name__


def _resolve(module, path, name):
    """(the object NAME names, and the Cell class it is a method of, or None)."""
    from .nn.cell import Cell
    obj, done, parent = module, [], None
    for part in name.split("."):
        parent = obj
        try:
            obj = getattr(obj, part)
        except AttributeError:
            where = "%s has no name %r" % (path, part) if not done else \
                "%s:%s has no attribute %r" % (path, ".".join(done), part)
            choices = [n for n in dir(obj if done else module) if not n.startswith("_")]
            close = difflib.get_close_matches(part, choices, n=1)
            raise CLIError(where + ("; did you mean %r?" % close[0] if close else "")) from None
        done.append(part)
    owner = parent if (isinstance(parent, type) and issubclass(parent, Cell)
                       and isinstance(obj, types.FunctionType)) else None
    return obj, owner


def _make_target(obj, name, path, module, init):
    from .nn.cell import Cell
    if isinstance(obj, type) and issubclass(obj, Cell):
        return _instantiate(obj, name, module, init)
    if init is not None:
        raise CLIError("--init is for Cell classes, but %s is %s" % (name, _what(obj)))
    if isinstance(obj, (Cell, types.FunctionType)):
        return obj
    raise CLIError("%s in %s is %s, not a Cell class, a Cell or a function" % (name, path, _what(obj)))


def _what(obj):
    from .nn.cell import Cell
    if isinstance(obj, type):
        return "a class that is not a Cell"
    if isinstance(obj, Cell):
        return "a Cell instance"
    if isinstance(obj, types.FunctionType):
        return "a function"
    kind = type(obj).__name__
    return "%s %s" % ("an" if kind[:1].lower() in "aeiou" else "a", kind)


def _instantiate(cls, name, module, init):
    args, kwargs = _parse_init(init, module) if init is not None else ((), {})
    try:
        sig = inspect.signature(cls)
    except (TypeError, ValueError):
        sig = None
    if sig is not None:
        try:
            sig.bind(*args, **kwargs)
        except TypeError as exc:
            if init is None:
                raise CLIError("%s needs constructor arguments (%s): give them with --init, "
                               "e.g. --init \"%s\"" % (name, exc, _init_example(sig))) from None
            raise CLIError("--init %r does not fit %s%s: %s" % (init, name, sig, exc)) from None
    call = "%s(%s)" % (name, init or "")
    try:
        cell = cls(*args, **kwargs)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        raise CLIError("%s: %s while constructing %s" % (_where(exc, os.path.abspath(module.__file__)),
                                                        _describe(exc), call), EXIT_COMPILE) from None
    if cls.construct is _base_construct():
        raise CLIError("%s has no construct method: adjoint differentiates a Cell's construct"
                       % name, EXIT_COMPILE)
    return cell


def _base_construct():
    from .nn.cell import Cell
    return Cell.construct


def _init_example(sig):
    names = [p.name for p in sig.parameters.values()
             if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return ", ".join("%s=..." % n for n in names) or "..."


def _parse_init(text, module):
    def capture(*args, **kwargs):
        return args, kwargs
    namespace = dict(vars(module))
    key = "_adjoint_cli_capture"
    namespace[key] = capture
    try:
        code = compile("%s(%s\n)" % (key, text), "<--init>", "eval")
    except SyntaxError as exc:
        raise CLIError("--init %r is not valid call arguments: %s" % (text, exc.msg)) from None
    try:
        return eval(code, namespace)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        raise CLIError("--init %r: %s" % (text, _describe(exc))) from None


def _compile(target, name, args):
    from .errors import AdjointError
    from .gradfn import GradFunction
    from .nn.cell import Cell
    from .ops import GradOperation
    from .tensor import ParameterTuple
    params = ()
    if args.get_by_list:
        if not isinstance(target, Cell):
            raise CLIError("--get-by-list differentiates a Cell's trainable Parameters, but %s is %s"
                           % (name, _what(target)))
        params = (ParameterTuple(target.trainable_params()),)
    if args.jvp and (args.get_by_list or args.sens or args.get_all):
        raise CLIError("--jvp is forward mode with respect to every input: it takes no --get-all, "
                       "--get-by-list or --sens")
    try:
        gradfn = GradOperation(get_all=args.get_all, get_by_list=args.get_by_list,
                               sens_param=args.sens)(target, *params)
        if args.jvp:
            from .functional import _tangent_fn
            gradfn = _tangent_fn(target, len(gradfn._example_args()), False, "jvp", optimize=not args.no_opt)
        elif args.no_opt:
            gradfn = GradFunction(gradfn.target, gradfn.weights, gradfn.single_weight, gradfn.layout_fn,
                                  gradfn.sens, has_aux=gradfn.has_aux, api=gradfn.api, optimize=False)
        return gradfn.ir if args.ir else gradfn.source
    except AdjointError as exc:
        raise CLIError(str(exc), EXIT_COMPILE) from None
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        if os.environ.get("ADJOINT_TRACEBACK"):
            raise
        raise CLIError("internal error while compiling %s: %s (at %s; this is a bug in adjoint: "
                       "set ADJOINT_TRACEBACK=1 for the traceback)" % (name, _describe(exc), _where(exc)),
                       EXIT_COMPILE) from None


# -- output ------------------------------------------------------------------------------------
def _use_color(mode):
    if mode == "never":
        return False
    if mode == "auto":
        if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
            return False
        try:
            if not sys.stdout.isatty():
                return False
        except (AttributeError, ValueError):
            return False
    try:
        import pygments  # noqa: F401
    except ImportError:
        return False
    return True


def highlight(text):
    """``text`` coloured for a terminal, or unchanged when pygments is not installed."""
    try:
        from pygments import highlight as _highlight
        from pygments.formatters import TerminalFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        return text
    return _highlight(text, PythonLexer(), TerminalFormatter())


def _write(text, color):
    if color:
        text = highlight(text)
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        return _broken_pipe()
    return EXIT_OK


def _broken_pipe():
    """`adjoint dump ... | head`: stop quietly, and keep Python's exit-time flush quiet too."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 1
