"""Stage 3, run: the grading image and the runners (Docker, local namespaces, a platform's own
container) that run the harness on one submission and return what it printed.

Stage 2, build, happens inside the run: the harness compiles the submission first
(grader/harness/build.py), so a build runs under the same limits as the programs.
"""
