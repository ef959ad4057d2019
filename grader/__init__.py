"""ipcgrade: grades IPC assignments by watching student programs from outside.

The folders are the pipeline, in the order a submission goes through it:

    discover/   find one submission per student (folders, archives) and stage clean copies
    run/        the grading image and the runners (Docker, local namespaces, a platform's own
                container) that run the harness on one submission
    harness/    what runs inside the container: build the programs (build.py), then the checks,
                with the IPC observation library (trace, processes, waits, pipes, sysv, posix,
                sockets, signals, evidence)
    score/      the rubric turns the harness's report into points; stored reports are rescored
    report/     one renderer per format: gradebook, feedback, Gradescope, JUnit, Markdown, HTML

Around it: batch.py grades a class (cached in store.py, spooled in spool.py); cli.py is the
`grade` command; audit/ is `grade audit` (its container/ and host/ halves); platforms/ runs on
Gradescope and PrairieLearn; selftest.py, mutants.py and scaffold.py serve assignment authors;
kit.py and selfcheck.py serve students.
"""
