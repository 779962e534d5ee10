#!/usr/bin/env bash
# Lints grpcapi/openapi.json with Redocly CLI under the rules of
# grpcapi/redocly.yaml (Redocly's recommended set, less two rules that do
# not fit this API). A warning fails it as an error does. Needs redocly:
#   npm install -g @redocly/cli@2.77.0
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v redocly >/dev/null; then
	echo "lint-openapi: redocly not found; install it with: npm install -g @redocly/cli@2.77.0" >&2
	exit 1
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
	redocly lint --config grpcapi/redocly.yaml --format stylish grpcapi/openapi.json >"$log" 2>&1 || status=$?
# Redocly's own notices (such as Node.js deprecation banners) are left out.
grep -v '[║╔╚]' "$log" | grep -v '^[[:space:]]*$' || true
if [ "$status" -ne 0 ]; then
	exit "$status"
fi
if grep -Eq 'You have [0-9]+ warnings?' "$log"; then
	echo "lint-openapi: grpcapi/openapi.json has warnings" >&2
	exit 1
fi
