package serve

import (
	"bytes"
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

// rawBytes sends bytes as they are and receives them as they come, to put on the wire what no
// protobuf library would.
type rawBytes struct{}

func (rawBytes) Marshal(v any) ([]byte, error) { return v.([]byte), nil }
func (rawBytes) Unmarshal(data []byte, v any) error {
	*(v.(*[]byte)) = bytes.Clone(data)
	return nil
}
func (rawBytes) Name() string { return "proto" }

// TestWireAsProtobuf sends requests, as raw bytes, that the generated decoding alone would take or
// read otherwise than protobuf, to a server over a loopback connection: each is refused as protobuf
// refuses it (Internal, grpc-go's "grpc: failed to unmarshal the received message: " and protobuf's
// error), or answered (an answer or a status) as the request protobuf decodes from it is.
func TestWireAsProtobuf(t *testing.T) {
	fx := newFixture(t, RegistryOptions{})
	addr := startTCP(t, mustServer(t, fx.reg, Options{}))
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	client := leadscorev1.NewLeadScoringClient(conn)

	str := func(b []byte, num protowire.Number, s string) []byte {
		return protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), s)
	}
	varint := func(b []byte, num protowire.Number, v uint64) []byte {
		return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), v)
	}
	// request is a Predict of model "lead" whose contact holds the given encoded map entries.
	request := func(entries ...[]byte) []byte {
		var c []byte
		for _, e := range entries {
			c = str(c, 2, string(e))
		}
		return str(str(nil, 1, "lead"), 4, string(c))
	}
	entry := func(key string, value []byte) []byte { return str(str(nil, 1, key), 2, string(value)) }
	industry := str(nil, 1, "Software")
	seconds := str(nil, 4, string(varint(nil, 1, 1700000000)))
	nanos := str(nil, 4, string(varint(nil, 2, 5)))

	for _, tt := range []struct {
		name   string
		method string
		data   []byte
	}{
		{"invalid UTF-8 in the model", "Predict", str(nil, 1, "le\xffd")},
		{"invalid UTF-8 in a property name", "Predict", request(entry("indus\xfftry", industry))},
		{"invalid UTF-8 in a string value", "Predict", request(entry("industry", str(nil, 1, "Soft\xc3")))},
		{"invalid UTF-8 in a batch's contact", "PredictBatch", str(str(str(nil, 1, "lead"), 4, ""), 4, string(str(nil, 1, "\xff")))},
		{"invalid UTF-8 in GetModel's name", "GetModel", str(nil, 1, "\x80")},
		{"field number 2^29", "Predict", append(request(entry("industry", industry)), 0x80, 0x80, 0x80, 0x80, 0x20, 0x00)},
		{"10-byte varint over 64 bits", "Predict", append(request(), 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02)},
		{"group ended by another field's end", "Predict", append(request(), 0x7b, 0x08, 0x01, 0x84, 0x01)},
		{"groups nested 20000 deep", "Predict", append(request(), append(bytes.Repeat([]byte{0x7b}, 20000), bytes.Repeat([]byte{0x7c}, 20000)...)...)},
		{"property value twice (protobuf merges)", "Predict", request(str(str(str(nil, 1, "created_at"), 2, string(seconds)), 2, string(nanos)))},
		{"property value as a varint", "Predict", request(append(varint(str(nil, 1, "industry"), 2, 2), 0x18, 0x01))},
		{"property name as a varint", "Predict", request(str(varint(nil, 1, 1), 2, string(industry)))},
		{"unknown field in as_of", "Predict", str(request(entry("industry", industry)), 5, string(str(varint(nil, 1, 1700000000), 7, "x")))},
		{"valid", "Predict", request(entry("industry", industry), entry("visits", protowire.AppendFixed64(protowire.AppendTag(nil, 2, protowire.Fixed64Type), 0x4020000000000000)))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var req proto.Message
			switch tt.method {
			case "Predict":
				req = &leadscorev1.PredictRequest{}
			case "PredictBatch":
				req = &leadscorev1.PredictBatchRequest{}
			case "GetModel":
				req = &leadscorev1.GetModelRequest{}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var raw []byte
			err := conn.Invoke(ctx, "/"+ServiceName+"/"+tt.method, tt.data, &raw, grpc.ForceCodec(rawBytes{}))
			if decodeErr := proto.Unmarshal(tt.data, req); decodeErr != nil {
				want := status.New(codes.Internal, "grpc: failed to unmarshal the received message: "+decodeErr.Error())
				if got := status.Convert(err); got.Code() != want.Code() || got.Message() != want.Message() {
					t.Fatalf("got %v, want %v", got, want)
				}
				return
			}
			// Protobuf takes it: the answer is the one to the request protobuf decodes.
			want, wantErr := client.Predict(ctx, req.(*leadscorev1.PredictRequest))
			if got, want := status.Convert(err), status.Convert(wantErr); got.Code() != want.Code() || got.Message() != want.Message() {
				t.Fatalf("got %v, want %v", got, want)
			}
			if err != nil {
				return
			}
			got := &leadscorev1.PredictResponse{}
			if err := proto.Unmarshal(raw, got); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}
