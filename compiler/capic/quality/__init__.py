"""``capic quality``: Meta's verdict on what the rules send, read from the Dataset Quality API
(:mod:`capic.quality.client`, :mod:`capic.quality.verdict`), beside capic's estimate per rule
(:mod:`capic.quality.rules`), compared (:mod:`capic.quality.compare`) and shown as text or JSON
(:mod:`capic.quality.render`); :func:`capic.quality.report.quality_report` puts them together.
"""
