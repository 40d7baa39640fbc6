package codec

import (
	"slices"
	"testing"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

// fuzzTypes are the message types FuzzUnmarshal decodes into, chosen by the input's first byte.
var fuzzTypes = []proto.Message{
	&leadscorev1.PredictRequest{}, &leadscorev1.PredictBatchRequest{}, &leadscorev1.PredictResponse{},
	&leadscorev1.PredictBatchResponse{}, &leadscorev1.ListModelsRequest{}, &leadscorev1.ListModelsResponse{},
	&leadscorev1.GetModelRequest{}, &leadscorev1.GetModelResponse{},
}

func fuzzType(m proto.Message) byte {
	return byte(slices.IndexFunc(fuzzTypes, func(t proto.Message) bool {
		return t.ProtoReflect().Descriptor() == m.ProtoReflect().Descriptor()
	}))
}

// FuzzUnmarshal decodes bytes with the codec and with grpc-go's proto codec: the same error, word for
// word, or equal messages; and a decoded message marshals (codec) into bytes that decode (protobuf)
// into it again. The seeds are the corpus and the malformed table.
func FuzzUnmarshal(f *testing.F) {
	for _, m := range corpus(f) {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) < 4096 { // the big batches make slow seeds
			f.Add(fuzzType(m), b)
		}
	}
	for _, tt := range malformed {
		f.Add(fuzzType(tt.msg), tt.data)
	}
	f.Fuzz(func(t *testing.T, typ byte, data []byte) {
		m := fuzzTypes[int(typ)%len(fuzzTypes)]
		want, got := newOf(m), newOf(m)
		wantErr := stock.Unmarshal(mem.BufferSlice{mem.SliceBuffer(data)}, want)
		gotErr := Codec{}.Unmarshal(mem.BufferSlice{mem.SliceBuffer(data)}, got)
		if msg := sameResult(want, wantErr, got, gotErr); msg != "" {
			t.Fatal(msg)
		}
		if gotErr != nil {
			return
		}
		enc, err := Codec{}.Marshal(got)
		if err != nil {
			t.Fatalf("Codec.Marshal of a decoded message: %v", err)
		}
		defer enc.Free()
		back := newOf(m)
		if err := proto.Unmarshal(enc.Materialize(), back); err != nil {
			t.Fatalf("proto.Unmarshal of Codec.Marshal's bytes: %v", err)
		}
		if d := diff(got, back); d != "" {
			t.Fatalf("Codec.Marshal, then proto.Unmarshal (-want +got):\n%s", d)
		}
	})
}
