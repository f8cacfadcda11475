"""The monthly ledger (月度台账): the 三色预警表 frozen at each month's end, and by hand.

freeze.py freezes one (the month's exactly once, whoever asks twice); changes.py compares
two sets of frozen rows — what turned red, recovered, was re-planned, milestones done,
items opened and closed — as a pure function; views.py and urls.py are the pages under
/ledger/ and the workbook download, rendered by the same code as the live export.
"""
