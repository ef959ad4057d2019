"""Grading where a course platform (Gradescope, PrairieLearn) provides the container.

`direct` runs the harness on the machine itself, `autograde` is the entry point
inside the platform's container, and `gradescope` / `prairielearn` write what
each platform needs uploaded (`grade export PLATFORM NAME`).
"""
