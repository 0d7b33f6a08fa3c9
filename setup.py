"""The one compiled module: the chain check's per-row step (ADR 0034).

Everything else is in pyproject.toml. The module is optional: where it
does not build (no compiler, no OpenSSL headers) the hub installs and
checks chains with the same step in Python, slower; the test suite
requires the compiled one (tests/integration/test_chain_parallel.py).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "services.common._chainlink",
            sources=["services/common/_chainlink.c"],
            libraries=["crypto"],
            extra_compile_args=["-O2"],
            optional=True,
        )
    ]
)
