"""Tests of the warnings engine (qiantang_warnings). This folder is the package
`tests.warnings`, never a path entry of its own: `import warnings` stays the standard library."""
