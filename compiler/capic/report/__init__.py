"""``capic report``: what the rules would send over recorded events, and what a change would
change (docs/report.md).

- :mod:`~capic.report.subject`: the rules to run (a bundle, or a project built into one);
- :mod:`~capic.report.replay`: events through a rule module, nothing sent;
- :mod:`~capic.report.tally`: the numbers of one version;
- :mod:`~capic.report.shadow`: two versions compared event by event;
- :mod:`~capic.report.gates`: ``--fail-on`` thresholds;
- :mod:`~capic.report.compose`: one report from all of these (plain data);
- :mod:`~capic.report.html` and :mod:`~capic.report.charts`: the self-contained page.
"""
