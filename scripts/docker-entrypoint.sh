#!/bin/sh
# The container's start: the Procfile's release step, then its web step, as a PaaS runs
# them (`release` or `web` alone runs just that step: compose.yaml migrates once in a
# service of its own, so several web replicas never race to migrate). The steps are read
# from the Procfile itself, so the image cannot drift from it. The web line ends in
# `exec`, and so does this script: uvicorn replaces the shell and gets SIGTERM itself,
# so `docker stop` drains requests instead of killing them.
set -eu
cd "$(dirname "$0")/.."

procfile_step() {
    command=$(sed -n "s/^$1:[[:space:]]*//p" Procfile)
    if [ -z "$command" ]; then
        echo "docker-entrypoint: no $1: line in the Procfile" >&2
        exit 1
    fi
    printf '%s\n' "$command"
}

release=$(procfile_step release)
web=$(procfile_step web)
case "${1:-all}" in
    all)
        sh -c "$release"
        exec sh -c "$web"
        ;;
    release) exec sh -c "$release" ;;
    web) exec sh -c "$web" ;;
    *)
        echo "usage: docker-entrypoint.sh [all|release|web]" >&2
        exit 2
        ;;
esac
