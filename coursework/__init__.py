"""Coursework beside live lessons: learning materials and their approval, assignments and
submissions, online tests, grades, and the records a school keeps of online teaching. Imports
storage and school only (like classroom/)."""
