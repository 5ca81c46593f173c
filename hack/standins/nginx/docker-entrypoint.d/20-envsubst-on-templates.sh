#!/bin/sh
# Renders every *.template under NGINX_ENVSUBST_TEMPLATE_DIR (/etc/nginx/templates) into
# NGINX_ENVSUBST_OUTPUT_DIR (/etc/nginx/conf.d), keeping subdirectories and dropping the suffix
# (NGINX_ENVSUBST_TEMPLATE_SUFFIX, .template). Only variables present in the environment, and matching the
# regular expression NGINX_ENVSUBST_FILTER when set, are substituted, so nginx's own $variables survive.
# Like the official image it skips, with a message, when the output directory is not writable (a read-only
# root filesystem needs a writable volume there).
set -e

ME=$(basename "$0")

entrypoint_log() {
    if [ -z "${NGINX_ENTRYPOINT_QUIET_LOGS:-}" ]; then
        echo "$ME: $*"
    fi
}

template_dir=${NGINX_ENVSUBST_TEMPLATE_DIR:-/etc/nginx/templates}
suffix=${NGINX_ENVSUBST_TEMPLATE_SUFFIX:-.template}
output_dir=${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}
filter=${NGINX_ENVSUBST_FILTER:-}

[ -d "$template_dir" ] || exit 0
if [ ! -w "$output_dir" ]; then
    entrypoint_log "ERROR: $template_dir exists, but $output_dir is not writable"
    exit 0
fi

# envsubst's SHELL-FORMAT argument: "${NAME} " for every environment variable whose name matches the filter.
defined_envs=$(awk -v filter="$filter" 'END { for (name in ENVIRON) if (name ~ filter) printf "${%s} ", name }' </dev/null)

find "$template_dir" -follow -type f -name "*$suffix" -print | while read -r template; do
    relative_path=${template#"$template_dir"/}
    output_path=$output_dir/${relative_path%"$suffix"}
    mkdir -p "$(dirname "$output_path")"
    entrypoint_log "running envsubst on $template to $output_path"
    envsubst "$defined_envs" <"$template" >"$output_path"
done
