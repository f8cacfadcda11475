"""协调事项: problems that block a project, put to the department that can solve them.

A project's cadre, team or the office raises an item (what is needed, the department asked,
the deadline, optionally the milestone it blocks); the department's liaisons answer it and
mark it handled; whoever raised it closes it (销号) or reopens it with a comment. Every step
is an event; nothing is deleted. services.py makes the steps (and checks who may),
selectors.py reads items with their colour (the warning rules: due soon yellow, overdue
red), views.py and urls.py are the project page's panel and the department's page."""
