# newsdesk on the official Airflow image: the project's pinned requirements and the library.
# Used by every Airflow service of docker-compose.yml (api-server, scheduler, dag-processor,
# triggerer, celery worker, init). The base version must match requirements.txt's pin.
FROM apache/airflow:3.3.2-python3.11
USER root
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/*
USER airflow
COPY --chown=airflow:root requirements.txt requirements.lock pyproject.toml /opt/newsdesk/
RUN pip install --no-cache-dir -r /opt/newsdesk/requirements.txt -c /opt/newsdesk/requirements.lock
COPY --chown=airflow:root plugins /opt/newsdesk/plugins
COPY --chown=airflow:root sql /opt/newsdesk/sql
COPY --chown=airflow:root seeds /opt/newsdesk/seeds
COPY --chown=airflow:root dags /opt/airflow/dags
RUN pip install --no-cache-dir --no-deps -e /opt/newsdesk
ENV NEWSDESK_SQL_DIR=/opt/newsdesk/sql NEWSDESK_SEEDS_DIR=/opt/newsdesk/seeds
# Fail the build, not the first task, if the Celery executor or the library cannot import
# (celery 5.7 broke apache-airflow-providers-celery 3.26: celery must stay on 5.6.x).
RUN python -c "import airflow.providers.celery.executors.celery_executor_utils, newsdesk.tasks.ingest, psycopg" \
 && airflow version
