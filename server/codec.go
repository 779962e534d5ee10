package server

import (
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// requestCodec is grpc's proto codec, except that a request that does not
// decode reaches the handlers marked as malformed instead of failing inside
// grpc, which would answer Internal before any interceptor ran, and neither
// log nor count it. The edge answers a marked request InvalidArgument.
type requestCodec struct{ encoding.CodecV2 }

func newRequestCodec() requestCodec {
	return requestCodec{encoding.GetCodecV2(grpcproto.Name)}
}

// malformedField is the field number that marks a malformed request: the
// largest there is, which no message of ours uses.
const malformedField = protowire.MaxValidNumber

func (c requestCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	m, ok := v.(proto.Message)
	if err == nil || !ok {
		return err
	}
	proto.Reset(m)
	mark := protowire.AppendTag(nil, malformedField, protowire.BytesType)
	mark = protowire.AppendString(mark, err.Error())
	m.ProtoReflect().SetUnknown(mark)
	return nil
}

// malformedRequest returns the error of a request the codec marked, or nil.
func malformedRequest(req any) error {
	m, ok := req.(proto.Message)
	if !ok {
		return nil
	}
	unknown := m.ProtoReflect().GetUnknown()
	if len(unknown) == 0 {
		return nil // every well-formed request of our API
	}
	num, typ, n := protowire.ConsumeTag(unknown)
	if n < 0 || num != malformedField || typ != protowire.BytesType {
		return nil
	}
	why, _ := protowire.ConsumeString(unknown[n:])
	return malformed(why)
}

// malformed is the error for a request that does not decode.
func malformed(why string) error {
	return status.Error(codes.InvalidArgument, clip("malformed request: "+why, maxMessageBytes))
}
