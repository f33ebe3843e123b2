"""Builds the LRS's one C module, zhipei/lrs/_ingest.c (docs/decisions/0012-native-ingest.md),
with the machine's C compiler and Python headers; everything else about the package is in
pyproject.toml. (setuptools reads extension modules from pyproject.toml only experimentally.)"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "zhipei.lrs._ingest",
            sources=["zhipei/lrs/_ingest.c"],
            extra_compile_args=["-Wall", "-Wextra"],
        )
    ]
)
