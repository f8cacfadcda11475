"""Tests of the register (projects): pages, services, permissions, the workbook."""
