# A throw-away OCI distribution registry (Debian's docker-registry) for the
# image tests: it runs as the current user on 127.0.0.1, keeps its blobs in
# $BATS_FILE_TMPDIR, and is reached over plain HTTP (so the sandbox's policy
# must list it in images.insecure_registries).
#
# A test file does `load ../lib/registry` and then:
#   registry_start [--auth USER:PASS] [--as USER] [--dir DIR]
#                  start one (htpasswd bcrypt auth when asked), wait until
#                  /v2/ answers, export REGISTRY=127.0.0.1:PORT; a second
#                  call starts a second registry (REGISTRY is the newest).
#                  --as: run it as USER (root only; runuser), with its files
#                  in DIR (default $BATS_FILE_TMPDIR), which USER must reach
#   registry_stop  end every registry this file started (teardown_file)
#   registry_push SRC REPO:TAG [--creds USER:PASS]
#                  skopeo copy SRC (any skopeo transport: oci:DIR:TAG,
#                  docker-archive:FILE...) to docker://$REGISTRY/REPO:TAG
#   registry_digest REPO:TAG [--creds USER:PASS]
#                  print the manifest digest (sha256:...) of a pushed image
#   registry_auth_file FILE USER:PASS [HOST:PORT]
#                  write a containers-auth.json for REGISTRY_AUTH_FILE
#                  (auths["HOST:PORT"].auth = base64 "USER:PASS")

# Pids of the registries started by this file, one a line.
REGISTRY_PIDS_FILE=$BATS_FILE_TMPDIR/registry.pids

registry_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# registry_write_config DIR PORT [HTPASSWD]
registry_write_config() {
	local dir=$1 port=$2 htpasswd=${3:-}
	cat >"$dir/config.yml" <<-EOF
	version: 0.1
	log:
	  level: warn
	  accesslog:
	    disabled: true
	storage:
	  filesystem:
	    rootdirectory: $dir/data
	  delete:
	    enabled: true
	http:
	  addr: 127.0.0.1:$port
	  secret: sbx-test-$port
	EOF
	if [ -n "$htpasswd" ]; then
		cat >>"$dir/config.yml" <<-EOF
		auth:
		  htpasswd:
		    realm: sbx-test-registry
		    path: $htpasswd
		EOF
	fi
}

# /v2/ answers 200 without auth and 401 with it: either means it is up.
registry_answers() {
	local code
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://$1/v2/") || return 1
	[ "$code" = 200 ] || [ "$code" = 401 ]
}

registry_start() {
	local creds='' user='' base=$BATS_FILE_TMPDIR dir port htpasswd='' pid
	local -a as=()
	while [ $# -gt 0 ]; do
		case $1 in
		--auth) creds=${2:?registry_start --auth USER:PASS} ;;
		--as) user=${2:?registry_start --as USER} ;;
		--dir) base=${2:?registry_start --dir DIR} ;;
		*) echo "registry_start: unknown argument $1" >&2; return 1 ;;
		esac
		shift 2
	done
	command -v docker-registry >/dev/null || skip "docker-registry is not installed (tests/install-deps.sh)"
	command -v skopeo >/dev/null || skip "skopeo is not installed (tests/install-deps.sh)"
	dir=$(mktemp -d "$base/registry.XXXXXX")
	mkdir "$dir/data"
	if [ -n "$creds" ]; then
		command -v htpasswd >/dev/null || skip "htpasswd is not installed (apache2-utils)"
		htpasswd=$dir/htpasswd
		htpasswd -Bbn "${creds%%:*}" "${creds#*:}" >"$htpasswd" || return 1
	fi
	if [ -n "$user" ]; then
		# runuser passes SIGTERM on to the registry, so its pid will do.
		as=(runuser -u "$user" --)
		chown -R "$user:" "$dir" || return 1
	fi
	# A free port can be taken between the probe and the bind: try again.
	for _ in 1 2 3; do
		port=$(registry_free_port) || return 1
		registry_write_config "$dir" "$port" "$htpasswd"
		"${as[@]}" docker-registry serve "$dir/config.yml" </dev/null >>"$dir/log" 2>&1 3>&- &
		pid=$!
		echo "$pid" >>"$REGISTRY_PIDS_FILE"
		for _ in $(seq 100); do
			if registry_answers "127.0.0.1:$port"; then
				export REGISTRY=127.0.0.1:$port
				export REGISTRY_DIR=$dir
				return 0
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	echo "the registry did not start on 127.0.0.1 (log: $dir/log):" >&2
	cat "$dir/log" >&2
	return 1
}

registry_stop() {
	local pid
	[ -f "$REGISTRY_PIDS_FILE" ] || return 0
	while read -r pid; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done <"$REGISTRY_PIDS_FILE"
	rm -f "$REGISTRY_PIDS_FILE"
	return 0
}

registry_push() {
	local src=$1 dest=$2
	local -a cred_args=()
	if [ "${3:-}" = --creds ]; then
		cred_args=(--dest-creds "${4:?registry_push --creds USER:PASS}")
	fi
	skopeo copy --quiet --dest-tls-verify=false "${cred_args[@]}" "$src" "docker://$REGISTRY/$dest"
}

registry_digest() {
	local -a cred_args=()
	if [ "${2:-}" = --creds ]; then
		cred_args=(--creds "${3:?registry_digest --creds USER:PASS}")
	fi
	skopeo inspect --tls-verify=false "${cred_args[@]}" --format '{{.Digest}}' "docker://$REGISTRY/$1"
}

registry_auth_file() {
	local file=$1 creds=$2 host=${3:-$REGISTRY}
	python3 - "$file" "$creds" "$host" <<-'EOF'
	import base64, json, os, sys
	path, creds, host = sys.argv[1:4]
	auth = base64.b64encode(creds.encode()).decode()
	fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
	with os.fdopen(fd, "w") as f:
	    json.dump({"auths": {host: {"auth": auth}}}, f)
	EOF
}
