# Worker image: the welfare-monitor CLI (worker, migrate, replay, simulate).
ARG PYTHON_VERSION=3.11
FROM python:${PYTHON_VERSION}-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    FAUST_DATADIR=/var/lib/welfare-monitor/faust

WORKDIR /app
COPY pyproject.toml README.md ./
COPY streams ./streams
COPY simulators ./simulators
COPY schemas ./schemas
COPY dashboards ./dashboards
# The Faust state directory exists, owned by the worker's user, before compose mounts a volume
# on it (a new volume takes the ownership of the directory it is mounted on).
RUN pip install . \
    && useradd --system --uid 10001 --home /var/lib/welfare-monitor --create-home monitor \
    && install -d -o monitor -g monitor /var/lib/welfare-monitor/faust

USER monitor
ENTRYPOINT ["welfare-monitor"]
CMD ["worker"]
