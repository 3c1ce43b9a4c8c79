#!/usr/bin/env bash
# Every test, run by `make test` beside a throwaway PostgreSQL (scripts/with-postgres.sh):
# the workspace's tests (SQLite is the controller's default store; the PostgreSQL store's
# conformance suite and the several-controllers test use the server), then the cluster
# end-to-end tests that start vmafx-controller (or vmafx up) again with the queue on
# PostgreSQL.
set -euo pipefail
# Every run names the whole workspace: a subset would unify dependency features differently
# and rebuild them (minutes on two cores) for the second half.
"${CARGO:-cargo}" test --workspace "$@"
echo "test.sh: the cluster end-to-end tests again, with the queue on PostgreSQL" >&2
export VMAFX_TEST_STORE=postgres
"${CARGO:-cargo}" test --workspace --test cluster_api --test cluster_auth --test cluster_encode --test cluster_http --test cluster_jobs --test cluster_up --test cluster_long "$@"
"${CARGO:-cargo}" test --workspace --test score_inputs "$@" -- the_same_cases_give_the_same_frames_through_a_cluster
"${CARGO:-cargo}" test --workspace --test mcp "$@" -- http_needs_its_token_and_runs_jobs_on_vmafx_up
"${CARGO:-cargo}" test --workspace --test tune "$@" -- a_ladder_over_vmafx_up_equals_the_local_one
"${CARGO:-cargo}" test --workspace --test remote_inputs "$@" -- a_cluster_job_reads_remote_inputs rclone_remotes_over_webdav_and_sftp a_connection_dropped_mid_read
