#!/usr/bin/env python
"""Django's command-line utility for the Qiantang warning system."""
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qiantang.settings")
    import qiantang  # noqa: F401  (registers qiantang_warnings when not installed)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
