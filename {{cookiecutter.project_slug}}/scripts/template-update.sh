#!/usr/bin/env bash
# Update this service from its template, safely. `make template-update` runs it.
#
#   bash scripts/template-update.sh [REF] [copier update options...]
#   make template-update REF=v0.4.0 COPIER_ARGS="--data main_package=./cmd/NAME"
#
# 1. refuses unless the tree is a git repository with nothing uncommitted;
# 2. runs `copier update` (the newest release, or REF), keeping your answers;
# 3. if copier fails or the run is interrupted (Ctrl-C, SIGTERM), puts the tree back
#    exactly as it was: a half-written update never looks like a finished one;
# 4. lists every file with a conflict copier left inline;
# 5. without conflicts, runs the service's verification (`make verify`);
# 6. prints the next step. Nothing is committed: review `git diff`, then commit.
# The template owns this file. Everything is in main(), so bash has read the whole
# script before copier, which may rewrite this very file, runs.
set -u

say() { printf 'template-update: %s\n' "$*"; }
die() { say "$*" >&2; exit 1; }

# Every change to the tree, new untracked files included (whatever status.showUntrackedFiles says).
changes() { git status --porcelain --untracked-files=all; }

# Back to the commit we started from: tracked files as they were, and every file the
# update created removed. Ignored files (bin/, .env) are never touched.
restore() {
    git reset -q --hard "$START" && git clean -q -f -d && [ -z "$(changes)" ] ||
        die "could not put the tree back; do it by hand: git reset --hard $START && git clean -fd"
}

# copier and the git commands it starts run in a process group of their own, stopped as one.
# shellcheck disable=SC2329 # called from interrupted, the trap's handler
stop_copier() {
    [ -n "$CHILD" ] || return 0
    kill -TERM -- "-$CHILD" 2>/dev/null
    wait "$CHILD" 2>/dev/null
    while kill -0 -- "-$CHILD" 2>/dev/null; do sleep 0.1; done
    CHILD=""
}

# shellcheck disable=SC2329 # the INT, TERM and HUP trap
interrupted() {
    trap '' INT TERM HUP
    stop_copier
    restore
    say "interrupted: the tree is back at $(git rev-parse --short "$START"), exactly as it was"
    exit 130
}

main() {
    cd "$(dirname "$0")/.." || exit 1
    local ref=${1:-}
    [ $# -gt 0 ] && shift
    case $ref in -*) die "the first argument is the release to update to (REF), not $ref" ;; esac

    command -v copier >/dev/null 2>&1 ||
        die "copier not found: pipx install copier && pipx inject copier copier-template-extensions"
    git rev-parse --verify -q HEAD >/dev/null ||
        die "copier updates only a git repository with a commit: git init && git add -A && git commit -m 'Generated'"
    [ -z "$(changes)" ] ||
        die "the tree has uncommitted changes: commit or stash them, then update (nothing was changed)"
    START=$(git rev-parse HEAD)
    CHILD=""
    trap interrupted INT TERM HUP

    say "updating from the template${ref:+ to $ref} (was at $(git rev-parse --short "$START"))"
    set -m  # copier in a process group of its own
    copier update --trust --defaults --conflict inline ${ref:+--vcs-ref "$ref"} "$@" </dev/null &
    CHILD=$!
    set +m
    if ! wait "$CHILD"; then
        CHILD=""
        restore
        die "copier update failed (above): the tree is back as it was, nothing changed"
    fi
    CHILD=""
    trap - INT TERM HUP

    if [ -z "$(changes)" ]; then
        say "already up to date: nothing changed"
        return 0
    fi
    # Files git reports unmerged, and changed or new files holding a conflict marker.
    local conflicts
    conflicts=$({
        git diff --name-only --diff-filter=U
        { git diff --name-only; git ls-files --others --exclude-standard; } |
            while IFS= read -r path; do
                [ -f "$path" ] && grep -q '^<<<<<<< ' "$path" && printf '%s\n' "$path"
            done
    } | sort -u)
    if [ -n "$conflicts" ]; then
        say "conflicts, left inline where both the template and your team changed the same lines:"
        printf '%s\n' "$conflicts" | sed 's/^/  /'
        say "next: resolve each (keep what you mean), then: make verify && git add -A && git commit"
        say "or drop the whole update: git reset --hard && git clean -fd"
        return 1
    fi
    git status --short --untracked-files=all
    if ! make --no-print-directory verify; then
        say "the updated service does not verify (above). Fix it, or drop the update: git reset --hard && git clean -fd"
        return 1
    fi
    say "updated and verified. Next: review \`git diff\`, then git add -A && git commit -m 'Template update'"
}

main "$@"
exit $?
