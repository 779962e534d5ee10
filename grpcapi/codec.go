package grpcapi

import (
	"runtime"
	"sync"
	"weak"

	"github.com/energylabel/energylabel/errdefs"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

// The gRPC port's codec is grpc's proto codec with two tricks, both here:
//
//   - A request that does not decode reaches the interceptors marked as
//     malformed (an empty message whose only field is malformedField)
//     instead of failing inside grpc, which would answer Internal before
//     any interceptor ran, and neither log nor count it. The edge, the
//     first interceptor after the metrics (which read no message),
//     answers a marked request InvalidArgument: no later interceptor and
//     no handler sees it.
//   - A GetRating answer the answer cache keeps is written as the bytes it
//     was encoded to once (preEncode), not encoded again: the message
//     itself is whole, so every interceptor, codec and transcoder that
//     reads it reads the answer.
//
// codec_test.go proves both.
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
	return status.Error(codes.InvalidArgument, errdefs.Clip("malformed request: "+why, errdefs.MaxMessageBytes))
}

// Marshal writes a pre-encoded answer's bytes, and encodes anything else.
func (c requestCodec) Marshal(v any) (mem.BufferSlice, error) {
	if r, ok := v.(*energylabelv1.GetRatingResponse); ok {
		if b, ok := preEncoded.Load(weak.Make(r)); ok {
			return mem.BufferSlice{mem.SliceBuffer(b.([]byte))}, nil
		}
	}
	return c.CodecV2.Marshal(v)
}

// preEncoded holds the encoding of each answer the cache keeps, by a weak
// pointer to the answer: once the cache drops an answer and no call holds
// it, the garbage collector frees it, and its cleanup the bytes.
var preEncoded sync.Map

// preEncode encodes an answer once, for Marshal to write, and returns the
// encoding's size. The answer must not change from now on.
func preEncode(r *energylabelv1.GetRatingResponse) (int, bool) {
	b, err := proto.Marshal(r)
	if err != nil {
		return 0, false
	}
	key := weak.Make(r)
	preEncoded.Store(key, b)
	runtime.AddCleanup(r, func(k weak.Pointer[energylabelv1.GetRatingResponse]) { preEncoded.Delete(k) }, key)
	return len(b), true
}
