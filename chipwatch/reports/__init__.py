"""What people read on a terminal: source health and status, article tables and exports, story timelines."""
