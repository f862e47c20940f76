# newsdesk on the official Airflow image: the project's pinned runtime requirements (no test
# tools), the library installed as a package (its migrations and views inside it) and the
# DAGs, all in the image: nothing of the code is mounted, so the DAGs cannot drift from the
# library they call. Used by every Airflow service of docker-compose.yml. The base version
# must match requirements.txt's pin.
FROM apache/airflow:3.3.2-python3.11
USER root
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/*
USER airflow
COPY --chown=airflow:root requirements.txt requirements.lock /opt/newsdesk/
RUN pip install --no-cache-dir "apache-airflow==3.3.2" -r /opt/newsdesk/requirements.txt -c /opt/newsdesk/requirements.lock
# plugins/newsdesk/sql links to ../../sql: both are copied, and the wheel built from them holds the SQL.
COPY --chown=airflow:root pyproject.toml /opt/newsdesk/
COPY --chown=airflow:root sql /opt/newsdesk/sql
COPY --chown=airflow:root plugins /opt/newsdesk/plugins
RUN pip install --no-cache-dir --no-deps /opt/newsdesk && rm -rf /opt/newsdesk/build
COPY --chown=airflow:root seeds /opt/newsdesk/seeds
COPY --chown=airflow:root dags /opt/airflow/dags
ENV NEWSDESK_SEEDS_DIR=/opt/newsdesk/seeds
# Fail the build, not the first task: the Celery executor, the FAB auth manager, the library and
# its migrations must import (celery 5.7 broke apache-airflow-providers-celery 3.26: celery stays
# on 5.6.x), and no test tool may be in the runtime image.
RUN python -c "import airflow.providers.celery.executors.celery_executor_utils, airflow.providers.fab.auth_manager.fab_auth_manager, newsdesk.tasks.ingest, newsdesk.storage.db, psycopg, s3fs, aiohttp" \
 && python -c "import importlib.util as u, sys; found = [m for m in ('pytest', 'hypothesis', 'moto', 'ruff') if u.find_spec(m)]; sys.exit(f'test tools in the runtime image: {found}' if found else 0)" \
 && newsdesk --version && airflow version
