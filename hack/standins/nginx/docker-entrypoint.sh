#!/bin/sh
# Stand-in for the official nginx image's /docker-entrypoint.sh (same contract, written for podpaths).
# When the command is nginx: source every *.envsh and run every executable *.sh in /docker-entrypoint.d, in
# name order, so that their exports reach the later scripts; then exec the command.
# NGINX_ENTRYPOINT_QUIET_LOGS=1 silences the messages.
set -e

entrypoint_log() {
    if [ -z "${NGINX_ENTRYPOINT_QUIET_LOGS:-}" ]; then
        echo "$0: $*"
    fi
}

if [ "${1:-}" = "nginx" ] || [ "${1:-}" = "nginx-debug" ]; then
    entrypoint_log "looking for configuration scripts in /docker-entrypoint.d/"
    for f in /docker-entrypoint.d/*; do
        [ -f "$f" ] || continue
        case "$f" in
            *.envsh)
                if [ -r "$f" ]; then
                    entrypoint_log "sourcing $f"
                    # shellcheck source=/dev/null
                    . "$f"
                else
                    entrypoint_log "ignoring $f, not readable"
                fi
                ;;
            *.sh)
                if [ -x "$f" ]; then
                    entrypoint_log "launching $f"
                    "$f"
                else
                    entrypoint_log "ignoring $f, not executable"
                fi
                ;;
            *) entrypoint_log "ignoring $f" ;;
        esac
    done
    entrypoint_log "configuration complete; ready for start up"
fi

exec "$@"
