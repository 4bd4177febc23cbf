#!/bin/sh
# Writes docker/secrets/* for compose.yaml, once: random keys and a database password.
# Existing files are kept, so running it again never changes a key in use (a new
# VISITOR_ID_KEY would stop repeat visitors being recognised).
set -eu
dir="$(dirname "$0")/secrets"
mkdir -p "$dir"
umask 077

random() { python3 -c "import secrets; print(secrets.token_urlsafe($1))"; }

[ -s "$dir/secret_key" ] || random 50 > "$dir/secret_key"
[ -s "$dir/visitor_id_key" ] || random 32 > "$dir/visitor_id_key"
if [ ! -s "$dir/postgres_password" ]; then
    random 24 > "$dir/postgres_password"
fi
if [ ! -s "$dir/database_url" ]; then
    printf 'postgres://hallops:%s@postgres:5432/hallops\n' "$(cat "$dir/postgres_password")" \
        > "$dir/database_url"
fi
# the vision worker's token is made in the app (create_camera_token); until then, empty
[ -e "$dir/camera_token" ] || : > "$dir/camera_token"
echo "secrets in $dir: $(ls "$dir" | tr '\n' ' ')"
