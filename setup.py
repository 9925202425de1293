"""The one compiled part: the media plane's way in and way out (sfu/_media.c and the files it names).
Everything else is in pyproject.toml."""
from setuptools import Extension, setup

setup(ext_modules=[Extension("sfu._media", ["sfu/_media.c", "sfu/_srtp.c", "sfu/_fanout.c", "sfu/_ingest.c"],
                             depends=["sfu/_media.h"], libraries=["dl"],
                             extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"])])
