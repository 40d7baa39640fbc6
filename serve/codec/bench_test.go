package codec

import (
	"testing"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// BenchmarkCodec marshals and unmarshals the bench's request and an answer of its answer's shape with
// grpc-go's proto codec and with Codec, as a gRPC server does each call (the request arrives as one
// buffer; marshaled data is freed once sent).
func BenchmarkCodec(b *testing.B) {
	msgs := []struct {
		name string
		m    proto.Message
	}{{"request", benchRequest(b)}, {"response", benchResponse()}}
	codecs := []struct {
		name string
		c    encoding.CodecV2
	}{{"stock", stock}, {"generated", Codec{}}}
	for _, msg := range msgs {
		data, err := proto.Marshal(msg.m)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range codecs {
			b.Run("msg="+msg.name+"/codec="+c.name+"/op=unmarshal", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					if err := c.c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(data)}, newOf(msg.m)); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("msg="+msg.name+"/codec="+c.name+"/op=marshal", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					out, err := c.c.Marshal(msg.m)
					if err != nil {
						b.Fatal(err)
					}
					out.Free()
				}
			})
		}
	}
	b.Run("msg=request/check", func(b *testing.B) {
		md := msgs[0].m.ProtoReflect().Descriptor()
		data, _ := proto.Marshal(msgs[0].m)
		b.ReportAllocs()
		for b.Loop() {
			if !wellFormed(data, md) {
				b.Fatal("not well formed")
			}
		}
	})
}
