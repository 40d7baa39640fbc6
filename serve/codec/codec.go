package codec

import (
	"fmt"

	"google.golang.org/grpc/encoding"
	protocodec "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// Codec is grpc-go's proto codec (google.golang.org/grpc/encoding/proto) with, for the messages that
// have generated vtprotobuf methods, those methods in place of protobuf's reflection: for the
// PredictRequest of scripts/bench/serve-request.json, about a third of the time and of the allocations.
//
// It answers exactly as the proto codec does. The generated code checks less than protobuf: it takes
// invalid UTF-8 in strings, field numbers above 2^29-1, 10-byte varints that overflow 64 bits,
// unbalanced groups, and, in map entries, a key or value of another wire type, a repeated message
// value (protobuf merges them) or none (protobuf makes an empty one); and it drops the unknown fields
// of well-known types (a Timestamp's). So each message is first checked (see wellFormed), and what the
// check or the generated code does not accept is handed to protobuf, whose answer (a message, or the
// proto codec's error) is then the codec's. Marshaled messages are checked too: protobuf refuses to
// marshal invalid UTF-8, and keeps a Timestamp's unknown fields.
//
// The zero value is ready to use; the Name is the proto codec's, "proto".
type Codec struct{}

var _ encoding.CodecV2 = Codec{}

// stock is grpc-go's proto codec, registered by the import of its package.
var stock = encoding.GetCodecV2(protocodec.Name)

// generated is a message with vtprotobuf's marshal, unmarshal and size methods.
type generated interface {
	proto.Message
	SizeVT() int
	MarshalToSizedBufferVT([]byte) (int, error)
	UnmarshalVT([]byte) error
}

// Name returns "proto": the codec stands in for grpc-go's.
func (Codec) Name() string { return protocodec.Name }

// Marshal encodes v. A message of at most mem.BufferPoolingThreshold bytes gets a buffer of its own,
// a larger one a buffer from mem.DefaultBufferPool, as the proto codec does.
func (Codec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(generated)
	if !ok {
		return stock.Marshal(v)
	}
	size := m.SizeVT()
	var (
		buf  *[]byte
		pool mem.BufferPool
	)
	if mem.IsBelowBufferPoolingThreshold(size) {
		b := make([]byte, size)
		buf = &b
	} else {
		pool = mem.DefaultBufferPool()
		buf = pool.Get(size)
	}
	free := func() {
		if pool != nil {
			pool.Put(buf)
		}
	}
	n, err := m.MarshalToSizedBufferVT((*buf)[:size])
	if err != nil {
		free()
		return nil, err
	}
	if n != size {
		free()
		return nil, fmt.Errorf("codec: %T changed while it was marshaled (%d bytes, then %d)", v, size, n)
	}
	if s := shapeOf(m.ProtoReflect().Descriptor()); !s.check((*buf)[:size], 0) || s.unknownInWellKnown(m.ProtoReflect()) {
		// Invalid UTF-8 in a string (the proto codec's error), or unknown fields that vtprotobuf's
		// well-known types leave out.
		free()
		return stock.Marshal(v)
	}
	if pool == nil {
		return mem.BufferSlice{mem.SliceBuffer(*buf)}, nil
	}
	return mem.BufferSlice{mem.NewBuffer(buf, pool)}, nil
}

// Unmarshal decodes data into v, which it resets first.
func (Codec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(generated)
	if !ok {
		return stock.Unmarshal(data, v)
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	b := buf.ReadOnlyData()
	proto.Reset(m)
	if wellFormed(b, m.ProtoReflect().Descriptor()) && m.UnmarshalVT(b) == nil {
		return nil
	}
	// Protobuf decides (it resets m): its message, or the proto codec's error, word for word.
	return stock.Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, v)
}
