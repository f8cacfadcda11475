"""The leaders' dashboard (/dashboard/): counts, breakdowns, lists, trend.

filters.py turns the shared filters into the projects shown; figures.py counts them (the
headline, the trend, the breakdowns); lists.py lists the red and yellow ones, most urgent
first; fingerprint.py says whether anything shown changed; page.py puts one page together;
charts.py draws the trend; views.py and urls.py serve it.

Every figure is read from the stored colours and the StatusChange history in a
fixed number of queries, whatever the number of projects. "Today" is passed
in; only the view reads the clock.

The shared filters (projects.filters) choose the projects. The colour filter
is special: the headline, the breakdowns and the trend always show the three
colours of the projects the *other* filters select (a count of "yellow among
the red projects" would say nothing); the colour chooses which lists are shown.
"""
