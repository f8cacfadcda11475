"""Qiantang major-project three-colour warning system.

The app folder `warnings/` is imported as `qiantang_warnings` (a top-level
`warnings` package would shadow Python's standard library module). The editable
install maps the name through setuptools `package-dir`; for a run with no
install at all we register the same mapping here, because every entry point
(manage.py, pytest, celery) imports this package first.
"""
import importlib.machinery
import importlib.util
import pathlib
import sys


def _register_warnings_app_package() -> None:
    if importlib.util.find_spec("qiantang_warnings") is not None:
        return
    folder = pathlib.Path(__file__).resolve().parent.parent / "warnings"
    spec = importlib.machinery.ModuleSpec("qiantang_warnings", None, is_package=True)
    spec.submodule_search_locations = [str(folder)]
    sys.modules["qiantang_warnings"] = importlib.util.module_from_spec(spec)


_register_warnings_app_package()

from .celery import app as celery_app  # noqa: E402

__all__ = ("celery_app",)
