#!/usr/bin/env bash
# pretix side of the benchmark (issue 19): installs pretix from PyPI into a virtualenv, bootstraps an event with a
# quota on a fresh PostgreSQL database, serves it with gunicorn, runs tessera-bench's `pretix-orders` scenario
# (order creation through pretix's REST API, same generator as the Tessera scenarios), then stops it and drops
# the database. Extra arguments go to tessera-bench (e.g. --connections 8 --duration 30).
#
#   cargo build --release -p tessera-bench && bench/pretix/run.sh --connections 8 --duration 30
#
# Environment: PRETIX_VERSION (2026.8.0), PRETIX_WORK (/tmp/pretix-bench: venv, data, logs), PRETIX_PORT (8345),
# PRETIX_WORKERS (2), PG_URL (postgres://postgres@127.0.0.1:5432), TESSERA_BENCH (target/release/tessera-bench).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
version=${PRETIX_VERSION:-2026.8.0}
work=${PRETIX_WORK:-/tmp/pretix-bench}
port=${PRETIX_PORT:-8345}
workers=${PRETIX_WORKERS:-2}
pg=${PG_URL:-postgres://postgres@127.0.0.1:5432}
bench=${TESSERA_BENCH:-${CARGO_TARGET_DIR:-$root/target}/release/tessera-bench}
db=pretix_bench_$$
template=

mkdir -p "$work"
venv=$work/venv
if ! "$venv/bin/python" -c "import pretix" 2>/dev/null || [ "$("$venv/bin/python" -c 'import pretix; print(pretix.__version__)')" != "$version" ]; then
    echo "installing pretix $version into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --upgrade pip wheel
    "$venv/bin/pip" install -q "pretix==$version" gunicorn
fi
"$venv/bin/pip" show -q gunicorn >/dev/null 2>&1 || "$venv/bin/pip" install -q gunicorn
echo "pretix $("$venv/bin/python" -c 'import pretix; print(pretix.__version__)') in $venv" >&2

data=$work/data-$$
mkdir -p "$data"
cfg=$work/pretix-$$.cfg
cat > "$cfg" <<CFG
[pretix]
instance_name=pretix bench
url=http://127.0.0.1:$port
currency=EUR
datadir=$data

[database]
backend=postgresql
name=$db
user=postgres
host=127.0.0.1
port=5432

[mail]
from=bench@localhost

[django]
debug=off
CFG
export PRETIX_CONFIG_FILE=$cfg

gunicorn_pid=
cleanup() {
    if [ -n "$gunicorn_pid" ]; then kill "$gunicorn_pid" 2>/dev/null || true; wait "$gunicorn_pid" 2>/dev/null || true; fi
    psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    if [ "${PRETIX_DROP_TEMPLATE:-0}" = 1 ]; then
        psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $template WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -rf "$data" "$cfg"
}
trap cleanup EXIT

# Migrating takes minutes, so it is done once into a template database (kept; PRETIX_DROP_TEMPLATE=1 drops it
# after the run) and each run's database is a copy of it.
template=pretix_bench_template_${version//[^0-9]/_}
if [ "$(psql -tA "$pg/postgres" -c "SELECT 1 FROM pg_database WHERE datname = '$template'")" != 1 ]; then
    psql -q "$pg/postgres" -c "CREATE DATABASE $template"
    echo "migrating $template once (a few minutes on a busy machine)" >&2
    sed -i "s/^name=.*/name=$template/" "$cfg"
    "$venv/bin/python" -m pretix migrate --noinput > "$work/migrate.log" 2>&1 \
        || { psql -q "$pg/postgres" -c "DROP DATABASE $template"; echo "migrate failed, see $work/migrate.log" >&2; exit 1; }
    sed -i "s/^name=.*/name=$db/" "$cfg"
fi
psql -q "$pg/postgres" -c "CREATE DATABASE $db TEMPLATE $template"
read -r token item < <("$venv/bin/python" -m pretix shell < "$here/bootstrap.py" 2>>"$work/bootstrap.log" | tail -1)
[ -n "$token" ] && [ -n "$item" ] || { echo "bootstrap failed, see $work/bootstrap.log" >&2; exit 1; }

"$venv/bin/gunicorn" pretix.wsgi --workers "$workers" --bind "127.0.0.1:$port" --timeout 120 \
    > "$work/gunicorn.log" 2>&1 &
gunicorn_pid=$!
for _ in $(seq 1 120); do
    if curl -sf -o /dev/null -H "Authorization: Token $token" "http://127.0.0.1:$port/api/v1/organizers/bench/events/"; then break; fi
    sleep 1
done
curl -sf -o /dev/null -H "Authorization: Token $token" "http://127.0.0.1:$port/api/v1/organizers/bench/events/" \
    || { echo "pretix did not answer; see $work/gunicorn.log" >&2; exit 1; }

pids=(--pretix-pid "$gunicorn_pid")
for p in $(pgrep -P "$gunicorn_pid"); do pids+=(--pretix-pid "$p"); done

"$bench" pretix-orders --pretix-url "http://127.0.0.1:$port" --pretix-token "$token" --pretix-item "$item" \
    --pretix-organizer bench --pretix-event bench "${pids[@]}" "$@"
