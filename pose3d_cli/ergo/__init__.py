"""Musculoskeletal-disorder risk from 3D poses: RULA, REBA, their time rules and the report.

``options`` (conventions and what the joints cannot see), ``rula``/``reba`` (the published tables, per frame,
vectorised), ``timeline`` (smoothing, static holds, repetitions, summaries), ``io`` (reading infer outputs,
writing per-frame CSV and summary JSON), ``report`` (self-contained HTML). No torch anywhere here.
"""
