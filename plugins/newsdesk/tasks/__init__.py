"""Airflow task bodies: what every DAG task calls, one module per DAG.

DAG files (``dags/``) only wire these functions into tasks; the bodies resolve settings
inside Airflow (``context``), call the stages of the library and return ids and counts
for XCom, never page content. ``dag_args`` is imported when a DAG file is parsed, so it
and this package's ``__init__`` import nothing beyond the standard library.
"""
