#!/usr/bin/env bash
# Polling throughput, database statements and CPU per polled feed with 1, 2
# and 3 `broadsheet run` replicas sharing one PostgreSQL on this machine,
# with ratios to one replica measured in the same run (see main.go).
#
#   bash bench/replicas/run.sh                 # FEEDS=2000 REPLICAS=1,2,3 ROUNDS=3
#   BROADSHEET_TEST_POSTGRES_DSN=postgres://... bash bench/replicas/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
export BROADSHEET_TEST_POSTGRES_DSN="${BROADSHEET_TEST_POSTGRES_DSN:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
exec go run ./bench/replicas -feeds "${FEEDS:-2000}" -replicas "${REPLICAS:-1,2,3}" -rounds "${ROUNDS:-3}" "$@"
