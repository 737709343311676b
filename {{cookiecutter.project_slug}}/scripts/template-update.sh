#!/usr/bin/env bash
# Update this service from its template, safely. `make template-update` runs it.
#
#   bash scripts/template-update.sh [REF] [update options...]
#   make template-update REF=v0.4.0 COPIER_ARGS="--data main_package=./cmd/NAME"
#
# The engine is the one that made the service: copier (.copier-answers.yml) runs
# `copier update`, cruft (.cruft.json) runs `cruft update`. Either way it
# 1. refuses unless the tree is a git repository with nothing uncommitted;
# 2. runs the update (the newest release, or REF), keeping your answers;
# 3. if the update fails or the run is interrupted (Ctrl-C, SIGTERM), puts the tree back
#    exactly as it was: a half-written update never looks like a finished one;
# 4. lists every file with a conflict left inline (and cruft's *.rej files);
# 5. without conflicts, runs the service's verification (`make verify`; VERIFY=off skips it);
# 6. prints the next step. Nothing is committed: review `git diff`, then commit.
# The template owns this file. Everything is in main(), called on the last line, so bash
# has read the whole script before the update, which may rewrite this very file, runs.
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

# The template release the service is at: copier records it (a tag, or a commit), cruft
# records a commit, named here by the template's tag for it when there is one.
template_release() {
    local commit
    if [ "$ENGINE" = copier ]; then
        sed -n 's/^_commit: *//p' .copier-answers.yml | tr -d "'\""
        return
    fi
    commit=$(sed -n 's/^ *"commit": *"\([0-9a-f]*\)".*/\1/p' .cruft.json)
    git ls-remote --tags "$(sed -n 's/^ *"template": *"\(.*\)",*$/\1/p' .cruft.json)" 2>/dev/null |
        awk -v c="$commit" '$1 == c { sub("refs/tags/", "", $2); sub("\\^\\{\\}$", "", $2); print $2; exit }' |
        grep . || printf '%s\n' "${commit:0:12}"
}

main() {
    cd "$(dirname "$0")/.." || exit 1
    local ref=${1:-} from
    [ $# -gt 0 ] && shift
    case $ref in -*) die "the first argument is the release to update to (REF), not $ref" ;; esac

    if [ -f .copier-answers.yml ]; then
        ENGINE=copier
    elif [ -f .cruft.json ]; then
        ENGINE=cruft
    else
        die "no .copier-answers.yml or .cruft.json here: this service was not made by copier or cruft"
    fi
    if [ "$ENGINE" = copier ]; then
        command -v copier >/dev/null 2>&1 ||
            die "copier not found: pipx install copier && pipx inject copier copier-template-extensions"
    else
        command -v cruft >/dev/null 2>&1 || die "cruft not found: pipx install cruft"
    fi
    git rev-parse --verify -q HEAD >/dev/null ||
        die "updates need a git repository with a commit: git init && git add -A && git commit -m 'Generated'"
    [ -z "$(changes)" ] ||
        die "the tree has uncommitted changes: commit or stash them, then update (nothing was changed)"
    START=$(git rev-parse HEAD)
    CHILD=""
    trap interrupted INT TERM HUP

    from=$(template_release)
    say "updating with $ENGINE from template release ${from:-unknown} to ${ref:-the newest}"
    set -m  # the update in a process group of its own
    if [ "$ENGINE" = copier ]; then
        copier update --trust --defaults --conflict inline ${ref:+--vcs-ref "$ref"} "$@" </dev/null &
    else
        # cruft runs the template's hooks for both renders: their verification would only
        # repeat the one below.
        VERIFY=off cruft update --skip-apply-ask --allow-untracked-files ${ref:+--checkout "$ref"} "$@" </dev/null &
    fi
    CHILD=$!
    set +m
    if ! wait "$CHILD"; then
        CHILD=""
        restore
        die "$ENGINE update failed (above): the tree is back as it was, nothing changed"
    fi
    CHILD=""
    trap - INT TERM HUP

    if [ -z "$(changes)" ]; then
        say "already up to date at ${from:-its release}: nothing changed"
        return 0
    fi
    say "updated from template release ${from:-unknown} to $(template_release)"
    # Files git reports unmerged, and changed or new files holding a conflict marker.
    local conflicts
    conflicts=$({
        git diff --name-only --diff-filter=U
        git ls-files --others --exclude-standard -- '*.rej'
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
    if [ "${VERIFY:-on}" = off ]; then
        say "verification skipped (VERIFY=off): run make verify before you commit"
        return 0
    fi
    if ! make --no-print-directory verify; then
        say "the updated service does not verify (above). Fix it, or drop the update: git reset --hard && git clean -fd"
        return 1
    fi
    say "updated and verified. Next: review \`git diff\`, then git add -A && git commit -m 'Template update'"
}

# One line: bash reads a script as it runs it, and the update may have rewritten this file
# by the time main returns; the `exit` is read before main starts (before 0.2.0 it was not).
main "$@"; exit $?
