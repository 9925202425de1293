"""Accounts, school structure (years, grades, classes, subjects, teams) and the timetable."""
