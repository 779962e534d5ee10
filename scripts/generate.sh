#!/usr/bin/env bash
# Lints proto/ and regenerates its Go code and grpcapi/openapi.json with the
# pinned tool versions.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOBIN="${GOBIN:-$PWD/bin}"
export PATH="$GOBIN:$PATH"
go install github.com/bufbuild/buf/cmd/buf@v1.75.0
go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
go install connectrpc.com/connect/v2/cmd/protoc-gen-connect-go@v2.0.2
# The proxy lists no versions of protoc-gen-connect-openapi, which go install
# pkg@version needs; scripts/tools/go.mod pins it instead.
go -C scripts/tools install github.com/sudorandom/protoc-gen-connect-openapi
# openapi31 makes the generator's document OpenAPI 3.1 (see its package
# comment).
go -C scripts/tools build -o "$GOBIN/openapi31" ./openapi31
buf lint
buf generate
openapi31 grpcapi/openapi.json
# Its tests run here, as scripts/tools is a module of its own; one of them
# checks that the document just written converts to itself.
go -C scripts/tools test -count=1 ./openapi31
# Regenerate with: go generate ./proto/...   (see README, "Regenerating the API code")
