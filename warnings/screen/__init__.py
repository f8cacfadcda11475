"""The meeting-room screen (挂图作战): the dashboard, read-only and in large type, opened by a
link the office creates and can revoke (ScreenLink), cycling through the district and its
sectors or lead departments, refreshing itself."""
