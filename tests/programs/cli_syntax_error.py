"""A file that does not parse (for ``adjoint dump``'s error test)."""
def f(x)
    return x
