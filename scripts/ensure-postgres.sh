#!/usr/bin/env bash
# Make sure the machine's PostgreSQL answers on 127.0.0.1:5432 and the test database exists.
# CI runs on a machine where PostgreSQL is installed but may be stopped.
set -euo pipefail
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
DB=${MAILY_TEST_PG_DB:-maily_test}
if ! pg_isready -h "$PGHOST" -p "$PGPORT" -q 2>/dev/null; then
  echo "PostgreSQL is not answering on $PGHOST:$PGPORT: starting it"
  if command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_isready -h "$PGHOST" -p "$PGPORT" -q && break; sleep 1; done
  pg_isready -h "$PGHOST" -p "$PGPORT" -q || { echo "PostgreSQL did not start on $PGHOST:$PGPORT" >&2; exit 1; }
fi
if ! psql -h "$PGHOST" -p "$PGPORT" -U postgres -tAc "select 1 from pg_database where datname='$DB'" | grep -q 1; then
  psql -h "$PGHOST" -p "$PGPORT" -U postgres -qc "create database $DB"
fi
