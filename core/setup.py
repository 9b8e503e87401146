"""Only the optional C extension; all metadata lives in pyproject.toml.

``optional=True``: when there is no compiler or no Python headers the install still succeeds and
``egsu_core.pki.gost`` falls back to its pure-Python hashes (issue 4).
"""

from setuptools import Extension, setup

_NATIVE = "egsu_core/pki/gost/_native/"

setup(
    ext_modules=[
        Extension(
            "egsu_core.pki.gost._gosthash",
            sources=[_NATIVE + "module.c", _NATIVE + "gost94.c", _NATIVE + "streebog.c"],
            depends=[
                _NATIVE + "gost94.h",
                _NATIVE + "streebog.h",
                _NATIVE + "streebog_constants.h",
            ],
            extra_compile_args=["-O3"],
            optional=True,
        )
    ]
)
