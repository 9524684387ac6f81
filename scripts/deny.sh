#!/usr/bin/env bash
# cargo deny for `make test`: bans, licences and sources always (they need nothing from the
# network); RustSec advisories against the database fetched from GitHub when GitHub answers,
# else against the copy already on this machine (its date is printed), else not at all, with
# a warning that says so. These machines reach package registries only, not GitHub.
set -euo pipefail
deny=$1

# cargo deny reads `cargo metadata` for every target, so it needs crates that no build on
# this machine downloads (android_system_properties, valuable, ...); with --offline a fresh
# machine fails on them. Fetch them from the registry first (reachable here; GitHub is not).
cargo fetch --locked --quiet

"$deny" --offline check bans licenses sources

db_root=${CARGO_HOME:-$HOME/.cargo}/advisory-dbs
if GIT_TERMINAL_PROMPT=0 timeout 15 git ls-remote https://github.com/rustsec/advisory-db HEAD >/dev/null 2>&1; then
    "$deny" check advisories
elif compgen -G "$db_root/advisory-db-*/.git" >/dev/null; then
    for db in "$db_root"/advisory-db-*/; do
        echo "deny: GitHub unreachable; advisories from the RustSec copy in $db (last advisory commit $(git -C "$db" show -s --format=%cs HEAD))" >&2
    done
    "$deny" --offline check advisories
else
    echo "deny: WARNING: advisories NOT checked: GitHub unreachable and no RustSec database under $db_root" >&2
fi
