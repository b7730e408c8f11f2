#!/usr/bin/env bash
# The test suite on SQLite, then on PostgreSQL. With CI=true PostgreSQL is mandatory.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTEST=".venv/bin/pytest"
export TONGBAN_QUEUE_URL="immediate://"
export TONGBAN_VAR_DIR="${TONGBAN_VAR_DIR:-$(mktemp -d /tmp/tongban-test-var.XXXXXX)}"
export TONGBAN_SECRET_KEY="test-secret-key-not-for-production-0123456789"
export TONGBAN_MASTER_KEY="000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
PG_URL="${TONGBAN_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
# The whole suite runs on every core (pytest-xdist; each worker seeds its own test database).
# A run of chosen tests stays in one process, where the seeding would cost more than it saves.
if [ $# -eq 0 ]; then WORKERS="${TONGBAN_TEST_WORKERS:-auto}"; else WORKERS="${TONGBAN_TEST_WORKERS:-0}"; fi
XDIST=()
[ "$WORKERS" != "0" ] && XDIST=(-n "$WORKERS")

# The production shape's fault tests (tests/cluster) start real servers and need no test database:
# they run once, in a step of their own after the two passes — for the whole suite, or when asked
# for by path (then alone). Anything else the passes are given runs in both.
CLUSTER_ONLY=""
for arg in "$@"; do
  case "$arg" in tests/cluster*) CLUSTER_ONLY=1 ;; esac
done
WITH_CLUSTER=1
for arg in "$@"; do
  case "$arg" in -*) ;; *) WITH_CLUSTER="" ;; esac
done
cluster_tests() {
  echo "== production shape and fault tests (once) =="
  TONGBAN_CLUSTER_TESTS=1 DATABASE_URL="sqlite:///${TONGBAN_VAR_DIR}/cluster-runner.sqlite3" $PYTEST "$@"
}
if [ -n "$CLUSTER_ONLY" ]; then
  cluster_tests "$@"
  exit $?
fi

echo "== tests on SQLite =="
DATABASE_URL="sqlite:///${TONGBAN_VAR_DIR}/test.sqlite3" TONGBAN_TEST_SQLITE="${TONGBAN_VAR_DIR}/test-db.sqlite3" $PYTEST "${XDIST[@]}" "$@"

if .venv/bin/python - "$PG_URL" <<'PY'
import sys, psycopg
try:
    psycopg.connect(sys.argv[1].replace("postgres://", "postgresql://"), connect_timeout=3).close()
except Exception as exc:
    print(f"PostgreSQL unreachable: {exc}", file=sys.stderr)
    sys.exit(1)
PY
then
  echo "== tests on PostgreSQL =="
  DATABASE_URL="$PG_URL" $PYTEST "${XDIST[@]}" "$@"
elif [ "${CI:-}" = "true" ]; then
  echo "CI=true and PostgreSQL is unreachable at $PG_URL: failing." >&2
  exit 1
else
  echo "== PostgreSQL run skipped: no server at $PG_URL (set CI=true to make it mandatory) =="
fi

if [ -n "$WITH_CLUSTER" ]; then
  cluster_tests tests/cluster "$@"
fi
