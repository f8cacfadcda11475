"""The weekly warning digest (预警周报): what each recipient reads on Monday morning.

weeks.py names the ISO weeks; snapshot.py reads the district once; content.py slices it
for one recipient; recipients.py says who receives which digest; delivery.py sends each
message exactly once; views.py and urls.py are the preview and the preferences pages.

`district_snapshot` reads the whole district once (a fixed number of queries, however
many projects or recipients); `build_digest` slices it for one recipient in memory:
leaders and the office see the district, cadres their own projects (responsible or on
the team), liaisons the milestones their departments own. Every recipient also reads
their own re-plan proposals (调整计划申请) decided in the reported week or still pending;
the district's digest counts the proposals waiting for the office and the projects
green only after re-planning (调整后绿). A district digest built without the whole district
in memory (a leader's or the office's preview, the weekly job's task for one of them) reads
district.py's aggregates and bounded lists instead: the same content, whatever the
district's size. Nothing here reads the clock.
"""
