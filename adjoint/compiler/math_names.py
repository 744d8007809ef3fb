"""NumPy functions that have a ``math`` twin for one Python float: the same function, and
where NumPy gives nan or inf outside the domain, ``math`` raises (the caller falls back)."""
MATH = {"np.sin": "math.sin", "np.cos": "math.cos", "np.tan": "math.tan", "np.exp": "math.exp",
        "np.log": "math.log", "np.sqrt": "math.sqrt", "np.tanh": "math.tanh", "np.sinh": "math.sinh",
        "np.cosh": "math.cosh", "np.arcsin": "math.asin", "np.arccos": "math.acos",
        "np.arctan": "math.atan", "np.log1p": "math.log1p", "np.expm1": "math.expm1",
        "np.log2": "math.log2", "np.log10": "math.log10", "np.arcsinh": "math.asinh",
        "np.arccosh": "math.acosh", "np.arctanh": "math.atanh"}
