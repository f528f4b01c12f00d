#!/bin/bash
# Builds the image chorus-local/host:17 from this host's own Java 17 and PostgreSQL binaries, for Docker hosts
# that cannot pull postgres:17 and eclipse-temurin:17-jre from a registry. It serves both roles of the container
# backend: run the tests with
#   -Dchorus.backend=containers -Dchorus.containers.postgresImage=chorus-local/host:17 \
#   -Dchorus.containers.javaImage=chorus-local/host:17
# Needs: docker, a JDK 17 under /usr/lib/jvm, PostgreSQL server binaries under /usr/lib/postgresql/<major>/bin.
set -euo pipefail
image=${1:-chorus-local/host:17}
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
[ -x "$pgbin/postgres" ] || { echo "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin" >&2; exit 1; }
java=$(readlink -f "$(command -v java)")
"$java" -version 2>&1 | grep -q '"17' || { echo "java on PATH is not Java 17 ($java)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# the entry point follows the postgres image's contract: initdb on first start (POSTGRES_PASSWORD or trust),
# POSTGRES_DB created, then postgres with the container's arguments; anything else is run as given
cat > "$work/docker-entrypoint.sh" <<SCRIPT
#!/bin/bash
set -e
if [ "\$1" != postgres ]; then exec "\$@"; fi
shift
export PGDATA=\${PGDATA:-/var/lib/postgresql/data}
mkdir -p "\$PGDATA" /var/run/postgresql && chown -R postgres:postgres "\$PGDATA" /var/run/postgresql
if [ ! -s "\$PGDATA/PG_VERSION" ]; then
  su postgres -s /bin/bash -c "$pgbin/initdb -D \$PGDATA -U postgres --auth=trust >/dev/null"
  echo "host all all all trust" >> "\$PGDATA/pg_hba.conf"
  echo "host replication all all trust" >> "\$PGDATA/pg_hba.conf"
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups $pgbin/postgres -D "\$PGDATA" -c listen_addresses='*' "\$@"
SCRIPT
chmod +x "$work/docker-entrypoint.sh"
tar -C / -c --exclude=usr/lib/google-cloud-sdk --exclude=usr/lib/llvm-14 --exclude=usr/lib/gcc \
    --exclude='usr/lib/jvm/temurin-*' --exclude=usr/share/doc --exclude=usr/share/man --exclude=usr/include \
    --exclude=usr/local --exclude=usr/lib/debug \
    usr bin lib lib64 sbin etc \
  | tar -C "$work" -x
mkdir -p "$work/tmp" "$work/var/lib/postgresql" "$work/var/run/postgresql" "$work/usr/local/bin" "$work/proc" "$work/sys" "$work/dev"
chmod 1777 "$work/tmp"
mv "$work/docker-entrypoint.sh" "$work/usr/local/bin/docker-entrypoint.sh"
tar -C "$work" -c . | docker import \
    --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
    --change "ENV PATH=/usr/local/bin:/usr/bin:/bin:$(dirname "$java")" \
    - "$image"
echo "built $image"
