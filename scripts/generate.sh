#!/usr/bin/env bash
# Lints proto/ and regenerates its Go code with the pinned tool versions.
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
buf lint
buf generate
