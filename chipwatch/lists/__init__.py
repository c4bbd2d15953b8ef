"""Screening lists as data: the changes found on them (`chipwatch lists changes`) and a team's own
counterparties screened against the stored entries (`chipwatch screen`)."""
