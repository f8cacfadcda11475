"""The 三色预警表 workbook, the office's spreadsheet: its format (format.py), reading it in
(importer.py), writing it out (exporter.py), the upload kept between preview and confirm
(staging.py), and the import/export pages (views.py, urls.py)."""
