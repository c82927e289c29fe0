#!/usr/bin/env bash
# interop.sh: run the whole smtpspec catalogue against real SMTP servers
# and publish each server's JSON run and the side-by-side matrix in
# reports/interop/.
#
# Every server is started by this script on 127.0.0.1, each on its own port
# with its own configuration (templates in scripts/interop/), and stopped
# again at the end. The Debian MTA packages conflict with each other, so
# they are never installed: `apt-get download` fetches them and `dpkg -x`
# unpacks each into a folder of its own under $WORK.
#
#   Postfix 3.7      Debian postfix
#   Exim 4.96        Debian exim4-daemon-light
#   OpenSMTPD 6.8    Debian opensmtpd (the Debian 11 build, with libssl1.1,
#                    when the archive has it: Debian 12's cannot finish a
#                    STARTTLS handshake)
#   aiosmtpd 1.4     Debian python3-aiosmtpd, run by /usr/bin/python3
#   go-smtp          examples/gosmtp (scripts/interop/gosmtpd)
#   mailpit 1.33.1   go install github.com/axllent/mailpit@v1.33.1
#
# Then it writes reports/interop/README.md (scripts/interop/readme.py), which
# explains every failing case.
#
# Usage: scripts/interop.sh [SERVER...]   (default: all of the above:
#        postfix exim opensmtpd aiosmtpd gosmtp mailpit)
#
# Environment:
#   SMTPSPEC_INTEROP_DIR   work folder (default /tmp/smtpspec-interop)
#   SMTPSPEC_INTEROP_PORT  first port (default 2600; server i gets PORT+i)
#   SMTPSPEC_INTEROP_OUT   where the reports go (default reports/interop)
#   SMTPSPEC_FLAGS         extra flags for every `smtpspec run`
#
# Run as root (the MTAs need their system users, which the script creates
# when missing: postfix/postdrop, Debian-exim, opensmtpd/opensmtpq). It
# needs apt (for apt-get download), Go, openssl, unshare (util-linux) and
# ip (iproute2). Downloads and builds use the network; the servers and the
# runs happen in a network namespace with nothing but the loopback
# interface, so no server can reach anything else (no reverse DNS, no
# sender verification). Re-running reuses what was downloaded and built.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=${SMTPSPEC_INTEROP_DIR:-/tmp/smtpspec-interop}
BASE=${SMTPSPEC_INTEROP_PORT:-2600}
OUT=${SMTPSPEC_INTEROP_OUT:-$REPO/reports/interop}
TEMPLATES=$REPO/scripts/interop
ALL=(postfix exim opensmtpd aiosmtpd gosmtp mailpit)
SERVERS=("$@")
[ ${#SERVERS[@]} -gt 0 ] || SERVERS=("${ALL[@]}")

mkdir -p "$WORK"/{debs,root,bin,tls,run} "$OUT"
log() { printf '== %s\n' "$*" >&2; }

port_of() {
	local i
	for i in "${!ALL[@]}"; do
		if [ "${ALL[$i]}" = "$1" ]; then echo $((BASE + 1 + i)); return; fi
	done
	echo "unknown server $1" >&2
	exit 2
}

# fetch PKG[/RELEASE]... downloads Debian packages (once) and unpacks each
# into $WORK/root/NAME.
fetch() {
	local p name
	for p in "$@"; do
		name=${p%%/*}
		if [ -d "$WORK/root/$name" ]; then continue; fi
		(cd "$WORK/debs" && ls "${name}"_*.deb >/dev/null 2>&1 || apt-get download "$p" 2>&1 | grep -v "^W: Download is performed unsandboxed" >&2)
		mkdir -p "$WORK/root/$name.tmp"
		dpkg -x "$(ls "$WORK/debs/${name}"_*.deb | head -1)" "$WORK/root/$name.tmp"
		mv "$WORK/root/$name.tmp" "$WORK/root/$name"
	done
}

# render TEMPLATE DEST fills in @PORT@, @WORK@ and @ROOT@.
render() {
	sed -e "s|@PORT@|$PORT|g" -e "s|@WORK@|$WORK|g" -e "s|@ROOT@|$ROOT|g" "$1" >"$2"
}

# wait_port PORT waits until something accepts connections on 127.0.0.1:PORT.
wait_port() {
	local i
	for i in $(seq 1 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	return 1
}

ensure_user() { # NAME [GROUP [HOME]]
	local group=${2:-$1} home=${3:-/nonexistent}
	getent group "$group" >/dev/null || groupadd --system "$group"
	getent passwd "$1" >/dev/null || useradd --system --no-create-home --home-dir "$home" --shell /usr/sbin/nologin -g "$group" "$1"
	if [ "$home" != /nonexistent ] && [ "$(getent passwd "$1" | cut -d: -f6)" != "$home" ]; then
		usermod -d "$home" "$1"
	fi
}

build() {
	log "build smtpspec and the go-smtp example server"
	(cd "$REPO" && go build -o "$WORK/bin/smtpspec" ./cmd/smtpspec && go build -o "$WORK/bin/gosmtpd" ./scripts/interop/gosmtpd)
	if [ ! -f "$WORK/tls/cert.pem" ]; then
		openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localhost" \
			-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
			-keyout "$WORK/tls/key.pem" -out "$WORK/tls/cert.pem" 2>/dev/null
		chmod 644 "$WORK/tls/cert.pem" "$WORK/tls/key.pem"
	fi
}

# Profiles: what each server accepts, in smtpspec run flags.
COMMON=(--helo client.smtpspec.test --mail-from smtpspec@example.org --relay-rcpt smtpspec@relay.invalid --domain example.test --insecure --timeout 10s)

# --- Postfix --------------------------------------------------------------
prepare_postfix() {
	fetch postfix
	ensure_user postfix postfix
	getent group postdrop >/dev/null || groupadd --system postdrop
}

start_postfix() {
	ROOT=$WORK/root/postfix
	local conf=$WORK/postfix/etc
	rm -rf "$WORK/postfix"
	mkdir -p "$conf" "$WORK/postfix/spool" "$WORK/postfix/data"
	render "$TEMPLATES/postfix/main.cf" "$conf/main.cf"
	render "$TEMPLATES/postfix/master.cf" "$conf/master.cf"
	chown postfix "$WORK/postfix/data"
	export LD_LIBRARY_PATH=$ROOT/usr/lib/postfix
	"$ROOT/usr/sbin/postfix" -c "$conf" set-permissions >/dev/null 2>&1 || true
	"$ROOT/usr/sbin/postfix" -c "$conf" start
	unset LD_LIBRARY_PATH
	PROFILE=(--rcpt postmaster@example.test --unknown-rcpt nosuchuser@example.test)
	STOP="LD_LIBRARY_PATH=$ROOT/usr/lib/postfix $ROOT/usr/sbin/postfix -c $conf stop"
}

# --- Exim -----------------------------------------------------------------
prepare_exim() {
	fetch exim4-daemon-light libidn12
	ensure_user Debian-exim Debian-exim
}

start_exim() {
	ROOT=$WORK/root/exim4-daemon-light
	rm -rf "$WORK/exim"
	mkdir -p "$WORK/exim/spool" "$WORK/exim/log" "$WORK/exim/mail"
	chown -R Debian-exim:Debian-exim "$WORK/exim"
	render "$TEMPLATES/exim/exim.conf" "$WORK/exim/exim.conf"
	LD_LIBRARY_PATH=$WORK/root/libidn12/usr/lib/x86_64-linux-gnu \
		"$ROOT/usr/sbin/exim4" -C "$WORK/exim/exim.conf" -bd -oX "$PORT" -oP "$WORK/exim/exim.pid" \
		>"$WORK/exim/log/stdout" 2>&1 &
	PROFILE=(--rcpt postmaster@example.test --unknown-rcpt nosuchuser@example.test --auth smtpspec:interop-secret)
	STOP="kill \$(cat $WORK/exim/exim.pid)"
}

# --- OpenSMTPD ------------------------------------------------------------
prepare_opensmtpd() {
	fetch_opensmtpd
	# smtpd's processes chroot into their users' home folders.
	mkdir -p /var/lib/opensmtpd/empty /var/spool/smtpd
	chmod 755 /var/lib/opensmtpd/empty
	ensure_user opensmtpd opensmtpd /var/lib/opensmtpd/empty
	ensure_user opensmtpq opensmtpq /var/spool/smtpd
}

start_opensmtpd() {
	OPENSMTPD_LIBS=
	[ -d "$WORK/root/libssl1.1" ] && OPENSMTPD_LIBS=$WORK/root/libssl1.1/usr/lib/x86_64-linux-gnu
	ROOT=$WORK/root/opensmtpd
	rm -rf "$WORK/opensmtpd"
	mkdir -p "$WORK/opensmtpd"
	render "$TEMPLATES/opensmtpd/smtpd.conf" "$WORK/opensmtpd/smtpd.conf"
	install -m 600 "$WORK/tls/key.pem" "$WORK/opensmtpd/key.pem" # smtpd refuses a readable key
	# The queue lives where the binary was built to look: /var/spool/smtpd.
	chmod 711 /var/spool/smtpd
	LD_LIBRARY_PATH=$OPENSMTPD_LIBS "$ROOT/usr/sbin/smtpd" -d -f "$WORK/opensmtpd/smtpd.conf" \
		>"$WORK/opensmtpd/log" 2>&1 &
	echo $! >"$WORK/opensmtpd/pid"
	PROFILE=(--rcpt postmaster@example.test --unknown-rcpt nosuchuser@example.test)
	STOP="kill \$(cat $WORK/opensmtpd/pid)"
}

# fetch_opensmtpd prefers the Debian 11 build (OpenSSL 1.1), whose STARTTLS
# works, fetched with apt's own client from a bullseye source list kept in
# $WORK (the system's sources are left alone); it falls back to Debian 12's.
fetch_opensmtpd() {
	if [ ! -d "$WORK/root/opensmtpd" ]; then
		local apt=$WORK/apt
		mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
		echo "deb http://deb.debian.org/debian bullseye main" >"$apt/sources.list"
		local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
			-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "APT::Get::List-Cleanup=0")
		if apt-get "${opts[@]}" update >"$apt/update.log" 2>&1 &&
			(cd "$WORK/debs" && rm -f opensmtpd_*.deb && apt-get "${opts[@]}" download opensmtpd libssl1.1 >&2); then
			log "OpenSMTPD: using the Debian 11 build (libssl1.1)"
			fetch libssl1.1
			echo bullseye >"$WORK/debs/opensmtpd.release"
		else
			log "OpenSMTPD: no Debian 11 build reachable; Debian 12's cannot finish STARTTLS"
			(cd "$WORK/debs" && apt-get download opensmtpd >&2)
			echo bookworm >"$WORK/debs/opensmtpd.release"
		fi
		fetch opensmtpd
	fi
}

# --- aiosmtpd -------------------------------------------------------------
prepare_aiosmtpd() {
	fetch python3-aiosmtpd python3-public python3-attr
}

start_aiosmtpd() {
	local pp=
	for p in python3-aiosmtpd python3-public python3-attr; do
		pp=$pp:$WORK/root/$p/usr/lib/python3/dist-packages
	done
	PYTHONPATH=${pp#:} /usr/bin/python3 -m aiosmtpd -n -c aiosmtpd.handlers.Sink -l "127.0.0.1:$PORT" \
		--tlscert "$WORK/tls/cert.pem" --tlskey "$WORK/tls/key.pem" --no-requiretls \
		>"$WORK/run/aiosmtpd.log" 2>&1 &
	echo $! >"$WORK/run/aiosmtpd.pid"
	# The Sink handler takes every recipient: there is no unknown one.
	PROFILE=(--rcpt postmaster@example.test)
	STOP="kill \$(cat $WORK/run/aiosmtpd.pid)"
}

# --- go-smtp --------------------------------------------------------------
prepare_gosmtp() { :; } # built with smtpspec

start_gosmtp() {
	"$WORK/bin/gosmtpd" -listen "127.0.0.1:$PORT" -domain example.test >"$WORK/run/gosmtp.log" 2>&1 &
	echo $! >"$WORK/run/gosmtp.pid"
	# The example takes every local part of its domain.
	PROFILE=(--rcpt postmaster@example.test)
	STOP="kill \$(cat $WORK/run/gosmtp.pid)"
}

# --- mailpit --------------------------------------------------------------
prepare_mailpit() {
	if [ ! -x "$WORK/bin/mailpit" ]; then
		log "build mailpit v1.33.1"
		GOBIN=$WORK/bin GOFLAGS=-mod=mod go install github.com/axllent/mailpit@v1.33.1
	fi
}

start_mailpit() {
	rm -rf "$WORK/mailpit"
	mkdir -p "$WORK/mailpit"
	# No AUTH: with a password file and without --smtp-auth-allow-insecure,
	# mailpit requires STARTTLS before any mail command, and the run would
	# then test little else. Recipients outside example.test are refused,
	# so that the relay cases mean something; no reverse DNS lookups.
	"$WORK/bin/mailpit" --smtp "127.0.0.1:$PORT" --listen "127.0.0.1:$((PORT + 100))" \
		--database "$WORK/mailpit/db" --disable-version-check --smtp-disable-rdns \
		--smtp-tls-cert "$WORK/tls/cert.pem" --smtp-tls-key "$WORK/tls/key.pem" \
		--smtp-allowed-recipients '(?i)@example\.test$' \
		>"$WORK/mailpit/log" 2>&1 &
	echo $! >"$WORK/mailpit/pid"
	# mailpit catches all mail for the allowed domain: there is no unknown
	# recipient.
	PROFILE=(--rcpt postmaster@example.test)
	STOP="kill \$(cat $WORK/mailpit/pid)"
}

# run_servers starts each server in turn, runs the catalogue against it and
# stops it. It runs inside a network namespace of its own (see below).
run_servers() {
	ip link set lo up
	local status=0 s rc
	for s in "$@"; do
		PORT=$(port_of "$s")
		log "$s on 127.0.0.1:$PORT"
		STOP=true
		if ! "start_$s"; then
			log "$s: could not start"
			status=1
			continue
		fi
		if ! wait_port "$PORT"; then
			log "$s: nothing listens on 127.0.0.1:$PORT"
			eval "$STOP" || true
			status=1
			continue
		fi
		rc=0
		# shellcheck disable=SC2086
		"$WORK/bin/smtpspec" run --target "127.0.0.1:$PORT" "${COMMON[@]}" "${PROFILE[@]}" ${SMTPSPEC_FLAGS:-} \
			--report "json=$OUT/$s.json" --report "text=$WORK/run/$s.txt" || rc=$?
		tail -2 "$WORK/run/$s.txt" | sed "s/^/$s: /" >&2
		eval "$STOP" || true
		sleep 0.5
		if [ $rc -ge 2 ]; then status=1; fi
	done
	return $status
}

if [ "${1:-}" = --inside ]; then
	shift
	run_servers "$@"
	exit
fi

# Downloads and builds need the network; the servers and the runs do not,
# and must not reach it: their reverse lookups and sender checks would
# otherwise query the machine's resolver. So they run in a network
# namespace of their own, where only the loopback interface exists.
build
for s in "${SERVERS[@]}"; do
	port_of "$s" >/dev/null
	"prepare_$s"
done
status=0
unshare --net "$0" --inside "${SERVERS[@]}" || status=$?

ins=()
for s in "${ALL[@]}"; do
	[ -f "$OUT/$s.json" ] && ins+=(--in "$s=$OUT/$s.json")
done
if [ ${#ins[@]} -gt 0 ]; then
	"$WORK/bin/smtpspec" matrix "${ins[@]}" --report "html=$OUT/matrix.html" --report "markdown=$OUT/matrix.md"
	log "wrote $OUT/matrix.html and $OUT/matrix.md"
	/usr/bin/python3 "$TEMPLATES/readme.py" "$OUT"
	log "wrote $OUT/README.md"
fi
exit $status
