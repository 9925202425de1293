"""The one compiled part: the SFU's forwarding loop (sfu/_fanout.c). Everything else is in pyproject.toml."""
from setuptools import Extension, setup

setup(ext_modules=[Extension("sfu._fanout", ["sfu/_fanout.c"], extra_compile_args=["-O2", "-Wall", "-Wextra",
                                                                                    "-Wno-unused-parameter"])])
