# Source this file (". .ci/postgres.sh") to get a throwaway PostgreSQL for
# the store's tests: it installs PostgreSQL from the distribution's
# packages when no initdb is found, creates a cluster in a temporary
# directory (as the postgres user when run as root, since initdb refuses
# root), starts it listening on a Unix socket in that directory only (no
# TCP port to collide with), creates a database and exports
#
#   APPPASS_TEST_POSTGRES=postgres://apppass@/apppass_test?host=<dir>&sslmode=disable
#
# Then `go test ./store/` runs every store test on PostgreSQL as well as
# SQLite. Call apppass_postgres_stop to stop the cluster and remove it.
# Nothing here needs the network, except apt-get when PostgreSQL is missing.
#
# The cluster trades durability for speed (fsync off) unless
# APPPASS_TEST_POSTGRES_DURABLE=1, which benchmarks should set.

apppass_postgres_start() {
	local bindir dir run
	bindir=""
	if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
		bindir=$(pg_config --bindir)
	fi
	if [ -z "$bindir" ]; then
		bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	fi
	if [ -z "$bindir" ] && command -v initdb >/dev/null 2>&1; then
		bindir=$(dirname "$(readlink -f "$(command -v initdb)")")
	fi
	if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
		echo "postgres.sh: installing PostgreSQL from the distribution's packages" >&2
		local sudo=""
		[ "$(id -u)" -ne 0 ] && sudo="sudo"
		$sudo apt-get update -qq >&2 || return 1
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >&2 || return 1
		bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	fi
	[ -x "$bindir/initdb" ] || { echo "postgres.sh: no initdb found" >&2; return 1; }

	dir=$(mktemp -d /tmp/apppass-pg.XXXXXX) || return 1
	run=""
	if [ "$(id -u)" -eq 0 ]; then
		id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres || return 1
		chown postgres "$dir"
		# From the cluster's own directory: the caller's may be closed to postgres.
		run="env -C $dir runuser -u postgres --"
	fi
	# Trust on a socket only this cluster's directory holds: a test
	# cluster, never a real one.
	$run "$bindir/initdb" -D "$dir/data" -U apppass -A trust --no-sync -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; return 1; }
	local opts="-c listen_addresses='' -k $dir -c max_connections=200"
	if [ "${APPPASS_TEST_POSTGRES_DURABLE:-0}" != 1 ]; then
		opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	fi
	$run "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$opts" \
		start >&2 || { cat "$dir/server.log" >&2; return 1; }
	local db=apppass_test
	if [ -x "$bindir/createdb" ]; then
		"$bindir/createdb" -h "$dir" -U apppass "$db" || return 1
	else
		db=postgres # initdb made it; the tests work in schemas of their own
	fi

	APPPASS_TEST_POSTGRES_DIR=$dir
	APPPASS_TEST_POSTGRES_BIN=$bindir
	APPPASS_TEST_POSTGRES_RUN=$run
	export APPPASS_TEST_POSTGRES="postgres://apppass@/$db?host=$dir&sslmode=disable"
	echo "postgres.sh: PostgreSQL ($("$bindir/postgres" --version)) at $dir; APPPASS_TEST_POSTGRES exported" >&2
}

apppass_postgres_stop() {
	[ -n "${APPPASS_TEST_POSTGRES_DIR:-}" ] || return 0
	$APPPASS_TEST_POSTGRES_RUN "$APPPASS_TEST_POSTGRES_BIN/pg_ctl" -D "$APPPASS_TEST_POSTGRES_DIR/data" -m immediate -w stop >/dev/null 2>&1
	rm -rf "$APPPASS_TEST_POSTGRES_DIR"
	unset APPPASS_TEST_POSTGRES APPPASS_TEST_POSTGRES_DIR APPPASS_TEST_POSTGRES_BIN APPPASS_TEST_POSTGRES_RUN
}

apppass_postgres_start
