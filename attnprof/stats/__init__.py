"""Statistics of timed samples, torch-free (standard library only): what a figure's uncertainty
is recorded as (``uncertainty``), the median's interval (``order``), ratios of medians
(``bootstrap``), verdicts and budgets (``verdicts``), Student's t (``student``) and power-law
fits (``fits``). Deterministic: the same input gives the same output, bootstrap included.

Reports, checks and suites judge stored Profiles with these without loading torch; the records
of :mod:`attnprof.results` are built on ``uncertainty``. Measuring (the timer, the machine's
state, the quality checks of samples) is :mod:`attnprof.measure`. See docs/latency.md.
"""
