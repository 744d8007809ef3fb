"""``adjoint dump FILE.py:NAME``, run end to end in a subprocess as a user would run it."""
import os
import re
import shutil
import subprocess
import sys

import pytest

import adjoint
from adjoint import cli

PROGRAMS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "programs")
MODEL = os.path.join(PROGRAMS, "cli_model.py")
ANSI = re.compile(r"\x1b\[")


def _env():
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    env.pop("ADJOINT_TRACEBACK", None)
    env["TERM"] = "xterm-256color"
    # the subprocess must import this checkout of adjoint, wherever it is run from
    root = os.path.dirname(os.path.dirname(os.path.abspath(adjoint.__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run(*args, cwd=None, command=None):
    command = command or [sys.executable, "-m", "adjoint"]
    return subprocess.run(command + list(args), capture_output=True, text=True, cwd=cwd, env=_env(),
                          timeout=120)


def dump(name, *flags, **kw):
    return run("dump", "%s:%s" % (MODEL, name), *flags, **kw)


def ok(proc):
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert not ANSI.search(proc.stdout), "plain output must not be coloured"
    return proc.stdout


def fails(proc, code=2):
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("adjoint: error: ")
    assert proc.stderr.count("adjoint: error: ") == 1
    return proc.stderr


# -- success -----------------------------------------------------------------------------------
def test_dump_a_cell_prints_its_adjoint():
    out = ok(dump("Net"))
    assert "def Net_construct_grad(" in out
    assert "# grad of:" in out
    assert "return dx" in out
    compile(out, "<dump>", "exec")          # the printed adjoint is a valid module


def test_dump_runs_from_another_directory_with_a_relative_path():
    out = ok(run("dump", "cli_model.py:Net", cwd=PROGRAMS))
    assert "def Net_construct_grad(" in out


def test_get_by_list_differentiates_the_trainable_params():
    out = ok(dump("Net", "--get-by-list"))
    assert "dself_w" in out and "dself_b" in out
    assert "return dself_w, dself_b" in out


def test_sens_adds_a_sens_parameter():
    out = ok(dump("Net", "--sens"))
    assert re.search(r"def Net_construct_grad\([^)]*\bsens\)", out)
    assert "sens" not in ok(dump("Net")).replace("check_sens", "")


def test_get_all_and_get_by_list_combine():
    out = ok(dump("Net", "--get-all", "--get-by-list"))
    assert "dx" in out and "dself_w" in out


def test_ir_prints_the_ir():
    out = ok(dump("Net", "--ir"))
    assert "func Net.construct(" in out
    assert "func Net.construct_grad(" in out
    assert "# before differentiation" in out and "# after" in out
    assert "def Net_construct_grad(" not in out


def test_no_opt_compiles_without_optimising():
    optimised = ok(dump("Net"))
    plain = ok(dump("Net", "--no-opt"))
    assert "def Net_construct_grad(" in plain
    compile(plain, "<dump>", "exec")
    assert plain != optimised
    assert len(plain.splitlines()) > len(optimised.splitlines())   # dead code is kept


def test_plain_function():
    out = ok(dump("loss"))
    assert "def loss_grad(x, y):" in out and "return dx" in out
    out = ok(dump("loss", "--get-all"))
    assert "return dx, dy" in out


def test_a_module_level_cell_instance():
    out = ok(dump("net", "--get-by-list"))
    assert "def Net_construct_grad(" in out and "dself_w" in out


def test_init_constructs_a_cell_that_needs_arguments():
    out = ok(dump("Sized", "--init", "3, scale=2.0"))
    assert "def Sized_construct_grad(x, self_w):" in out
    # cli_model imports a sibling module: its directory is on sys.path, as for `python cli_model.py`
    assert "2.0" in out


def test_help_and_version():
    proc = run("--help")
    assert proc.returncode == 0 and "dump" in proc.stdout
    proc = run("dump", "--help")
    assert proc.returncode == 0
    for flag in ("--get-all", "--get-by-list", "--sens", "--ir", "--no-opt", "--init", "--color"):
        assert flag in proc.stdout
    proc = run("--version")
    assert proc.returncode == 0 and adjoint.__version__ in proc.stdout


def test_console_script():
    script = shutil.which("adjoint")
    if script is None:
        pytest.skip("the adjoint console script is not installed (pip install -e .)")
    out = ok(run("dump", "%s:Net" % MODEL, command=[script]))
    assert "def Net_construct_grad(" in out
    assert run("--version", command=[script]).stdout.strip() == "adjoint " + adjoint.__version__


def test_main_returns_an_exit_status(capsys):
    assert cli.main(["--version"]) == 0
    assert cli.main(["dump", "no-colon"]) == 2
    assert capsys.readouterr().err.startswith("adjoint: error: expected FILE.py:NAME")
    assert cli.main([]) == 2


# -- colour ------------------------------------------------------------------------------------
def test_color_always_and_never():
    pytest.importorskip("pygments")
    coloured = dump("Net", "--color", "always")
    assert coloured.returncode == 0 and ANSI.search(coloured.stdout)
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured.stdout) == ok(dump("Net"))
    assert not ANSI.search(dump("Net", "--color", "never").stdout)


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_terminal_output_is_coloured():
    pytest.importorskip("pygments")
    import pty  # noqa: F401  (POSIX only)
    master, slave = os.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "adjoint", "dump", "%s:Net" % MODEL],
                              stdout=slave, stderr=subprocess.PIPE, env=_env(), timeout=120)
        os.close(slave)
        slave = None
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:                  # EIO: the terminal's other end is closed
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)
    assert proc.returncode == 0, proc.stderr
    out = b"".join(chunks).decode()
    assert ANSI.search(out) and "Net_construct_grad" in out


# -- failures ----------------------------------------------------------------------------------
def test_missing_file():
    err = fails(run("dump", os.path.join(PROGRAMS, "cli_no_such_file.py") + ":Net"))
    assert "cli_no_such_file.py" in err and "no such file" in err


def test_spec_without_colon():
    err = fails(run("dump", MODEL))
    assert "FILE.py:NAME" in err


def test_missing_name():
    err = fails(dump("Nett"))
    assert "Nett" in err and "did you mean 'Net'" in err


def test_class_needing_arguments_says_to_use_init():
    err = fails(dump("Sized"))
    assert "Sized" in err and "--init" in err and "'n'" in err


def test_bad_init():
    assert "--init" in fails(dump("Sized", "--init", "3,,"))
    assert "NameError" in fails(dump("Sized", "--init", "undefined_thing"))
    assert "too many" in fails(dump("Sized", "--init", "1, 2, 3"))
    assert "--init" in fails(dump("loss", "--init", "3"))


def test_unsupported_code_names_the_line():
    err = fails(dump("Unsupported"), code=1)
    assert "cli_model.py:36:" in err
    assert "try" in err and "hint:" in err


def test_not_a_cell_or_function():
    err = fails(dump("COUNT"))
    assert "COUNT" in err and "int" in err
    assert "module" in fails(dump("np"))


def test_get_by_list_needs_a_cell():
    assert "--get-by-list" in fails(dump("loss", "--get-by-list"))


def test_constructor_that_raises():
    err = fails(dump("Broken"), code=1)
    assert "cli_model.py:46" in err and "RuntimeError: cannot build" in err


def test_file_that_does_not_parse():
    err = fails(run("dump", os.path.join(PROGRAMS, "cli_syntax_error.py") + ":f"), code=1)
    assert "cli_syntax_error.py:2" in err and "SyntaxError" in err


def test_usage_errors_from_argparse():
    err = fails(run("dump", "%s:Net" % MODEL, "--color", "sometimes"))
    assert "--color" in err
    err = fails(run("dump", "%s:Net" % MODEL, "--bogus"))
    assert "--bogus" in err
    proc = run()
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_no_colour_without_pygments(monkeypatch):
    monkeypatch.setitem(sys.modules, "pygments", None)      # as if it were not installed
    assert cli._use_color("always") is False
    assert cli.highlight("x = 1\n") == "x = 1\n"


# -- the rough edges, smoothed -------------------------------------------------------------------
def test_a_cells_construct_named_directly_is_the_cells_adjoint():
    assert ok(dump("Net.construct")) == ok(dump("Net"))


def test_a_cell_without_construct_is_named():
    err = fails(dump("NoConstruct"), code=1)
    assert "NoConstruct has no construct method" in err


def test_what_the_file_prints_while_loading_is_not_in_the_dump(tmp_path):
    src = tmp_path / "chatty.py"
    src.write_text("import numpy as np\nprint('loading chatty')\n\ndef f(x):\n    return np.sum(x * x)\n")
    proc = run("dump", "chatty.py:f", cwd=tmp_path)
    assert proc.returncode == 0 and "loading chatty" not in proc.stdout
    assert "loading chatty" in proc.stderr and "def f_grad(" in proc.stdout


def test_errors_show_paths_as_typed(tmp_path):
    src = tmp_path / "bad.py"
    src.write_text("import numpy as np\n\ndef f(x):\n    return np.fft.fft(x).real.sum()\n")
    err = fails(run("dump", "bad.py:f", cwd=tmp_path), code=1)
    assert "\nbad.py:4:12: " in err and str(tmp_path) not in err


def test_jvp_prints_the_tangent_code(capsys):
    # (in this process: the subprocess tests above cover the command line itself)
    assert cli.main(["dump", "%s:loss" % MODEL, "--jvp", "--color", "never"]) == 0
    out = capsys.readouterr().out
    assert "def loss_jvp(x, y, x_dot, y_dot):" in out and "# tangent of:" in out
    assert cli.main(["dump", "%s:loss" % MODEL, "--jvp", "--get-all"]) == 2
    assert "--jvp" in capsys.readouterr().err
