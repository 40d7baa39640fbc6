package codec

import (
	"bytes"
	"testing"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

// wire builds encoded messages field by field.
type wire []byte

func (w wire) str(num protowire.Number, s string) wire {
	return protowire.AppendString(protowire.AppendTag(w, num, protowire.BytesType), s)
}
func (w wire) msg(num protowire.Number, m wire) wire { return w.str(num, string(m)) }
func (w wire) varint(num protowire.Number, v uint64) wire {
	return protowire.AppendVarint(protowire.AppendTag(w, num, protowire.VarintType), v)
}
func (w wire) raw(b ...byte) wire { return append(w, b...) }

// entry is a map entry of Contact.properties.
func entry(key string, value wire) wire { return wire{}.str(1, key).msg(2, value) }

// contact is a PredictRequest whose contact holds the given encoded entries.
func contact(entries ...wire) wire {
	var c wire
	for _, e := range entries {
		c = c.msg(2, e)
	}
	return wire{}.str(1, "leads").msg(4, c)
}

var (
	stringValue = wire{}.str(1, "Software")
	tsSeconds   = wire{}.msg(4, wire{}.varint(1, 1700000000))
	tsNanos     = wire{}.msg(4, wire{}.varint(2, 5))
)

// malformed are encodings that the generated code alone decodes otherwise than protobuf
// (generatedDiffers: it takes some that protobuf refuses, refuses some that protobuf takes, decodes
// some into another message), and some that both refuse, with other errors. The codec must answer
// each as protobuf does, word for word. They are also FuzzUnmarshal's seeds.
var malformed = []struct {
	name             string
	msg              proto.Message // of the type to decode
	data             []byte
	generatedDiffers bool
}{
	{"invalid UTF-8 in a string field", &leadscorev1.PredictRequest{}, wire{}.str(1, "le\xffds"), true},
	{"invalid UTF-8 in the contact id", &leadscorev1.PredictRequest{}, wire{}.msg(4, wire{}.str(1, "C\xc3")), true},
	{"invalid UTF-8 in a property name", &leadscorev1.PredictRequest{}, contact(entry("indus\xfftry", stringValue)), true},
	{"invalid UTF-8 in a string value", &leadscorev1.PredictRequest{}, contact(entry("industry", wire{}.str(1, "\xed\xa0\x80"))), true},
	{"invalid UTF-8 in a batch's 3rd contact", &leadscorev1.PredictBatchRequest{},
		wire{}.msg(4, nil).msg(4, nil).msg(4, wire{}.str(1, "\xff")), true},
	{"invalid UTF-8 in GetModel's name", &leadscorev1.GetModelRequest{}, wire{}.str(1, "\x80"), true},
	{"invalid UTF-8 in an answer's reason", &leadscorev1.PredictResponse{}, wire{}.msg(8, wire{}.str(2, "\xfe")), true},
	{"field number 2^29", &leadscorev1.PredictRequest{}, wire{}.raw(0x80, 0x80, 0x80, 0x80, 0x20, 0x00), true},
	{"field number 2^32+1 (truncates to 1)", &leadscorev1.PredictRequest{},
		wire{}.raw(0x8a, 0x80, 0x80, 0x80, 0x80, 0x01).raw(1, 'x'), true},
	{"10-byte varint over 64 bits", &leadscorev1.PredictRequest{},
		wire{}.raw(0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02), true},
	{"11-byte varint", &leadscorev1.PredictRequest{},
		wire{}.raw(0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00), false},
	{"group ended by another field's end", &leadscorev1.PredictRequest{}, wire{}.raw(0x7b, 0x08, 0x01, 0x84, 0x01), true},
	{"groups nested 20000 deep", &leadscorev1.PredictRequest{},
		append(bytes.Repeat([]byte{0x7b}, 20000), bytes.Repeat([]byte{0x7c}, 20000)...), true},
	{"10^5 unclosed groups", &leadscorev1.PredictRequest{}, bytes.Repeat([]byte{0x7b}, 100_000), false},
	{"end group at the top", &leadscorev1.PredictRequest{}, wire{}.raw(0x7c), false},
	{"wire type 7", &leadscorev1.PredictRequest{}, wire{}.raw(0x0f), false},
	{"model as a varint", &leadscorev1.PredictRequest{}, wire{}.varint(1, 5), true},
	{"contact as a varint", &leadscorev1.PredictRequest{}, wire{}.varint(4, 5), true},
	{"property name as a varint", &leadscorev1.PredictRequest{},
		contact(wire{}.varint(1, 1).msg(2, stringValue)), true},
	{"property value as a varint", &leadscorev1.PredictRequest{},
		contact(wire{}.str(1, "visits").varint(2, 2).raw(0x18, 0x01)), true},
	{"property without a value", &leadscorev1.PredictRequest{}, contact(wire{}.str(1, "visits")), true},
	{"property value twice (protobuf merges)", &leadscorev1.PredictRequest{},
		contact(wire{}.str(1, "created_at").msg(2, tsSeconds).msg(2, tsNanos)), true},
	{"property value twice, second empty", &leadscorev1.PredictRequest{},
		contact(wire{}.str(1, "industry").msg(2, stringValue).msg(2, nil)), true},
	{"group's double as a varint", &leadscorev1.PredictResponse{},
		wire{}.msg(5, wire{}.msg(8, wire{}.str(1, "fit").varint(2, 3))), true},
	{"group map's key twice", &leadscorev1.PredictResponse{},
		wire{}.msg(5, wire{}.msg(8, wire{}.str(1, "fit").str(1, "engagement"))), false},
	{"timestamp twice in a value (merged by both)", &leadscorev1.PredictRequest{},
		contact(entry("created_at", append(append(wire{}, tsSeconds...), tsNanos...))), false},
	{"contact twice (merged by both)", &leadscorev1.PredictRequest{},
		append(contact(entry("a", stringValue)), contact(entry("b", tsSeconds))...), false},
	{"unknown field in as_of (a Timestamp)", &leadscorev1.PredictRequest{}, wire{}.msg(5, wire{}.varint(1, 5).str(6, "x")), true},
	{"unknown field in a timestamp value", &leadscorev1.PredictRequest{},
		contact(entry("created_at", wire{}.msg(4, wire{}.varint(1, 5).varint(3, 1)))), true},
	{"truncated length", &leadscorev1.PredictRequest{}, wire{}.raw(0x0a, 0x05, 'a'), false},
	{"length past the end", &leadscorev1.PredictRequest{}, wire{}.raw(0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f), false},
	{"not protobuf", &leadscorev1.PredictRequest{}, []byte("\xff\xff\xff\xff garbage"), false},
}

// TestMalformed decodes each malformed encoding with the codec and with grpc-go's proto codec: the
// same error, word for word, or equal messages. The generated code alone must differ where the case
// says so (else the case checks nothing).
func TestMalformed(t *testing.T) {
	for _, tt := range malformed {
		t.Run(tt.name, func(t *testing.T) {
			want, got := newOf(tt.msg), newOf(tt.msg)
			wantErr := stock.Unmarshal(mem.BufferSlice{mem.SliceBuffer(tt.data)}, want)
			gotErr := Codec{}.Unmarshal(mem.BufferSlice{mem.SliceBuffer(tt.data)}, got)
			if msg := sameResult(want, wantErr, got, gotErr); msg != "" {
				t.Error(msg)
			}
			vt := newOf(tt.msg)
			vtErr := vt.(generated).UnmarshalVT(tt.data)
			if differs := decodedOtherwise(want, wantErr, vt, vtErr); differs != tt.generatedDiffers {
				t.Errorf("UnmarshalVT alone: error %v, message %v; want it to differ from protobuf: %v", vtErr, vt, tt.generatedDiffers)
			}
		})
	}
}

// sameResult is "" when two decodes (message and error) agree: both failed with the same error text, or
// both gave equal messages.
func sameResult(want proto.Message, wantErr error, got proto.Message, gotErr error) string {
	switch {
	case wantErr != nil && gotErr != nil:
		if wantErr.Error() != gotErr.Error() {
			return "error " + quote(gotErr) + ", want " + quote(wantErr)
		}
	case wantErr != nil || gotErr != nil:
		return "error " + quote(gotErr) + ", want " + quote(wantErr)
	default:
		if d := diff(want, got); d != "" {
			return "messages differ (-want +got):\n" + d
		}
		if nilValues(want) != nilValues(got) {
			return "nil property values differ"
		}
	}
	return ""
}

// decodedOtherwise reports whether two decodes differ in what they accept or in the message they give:
// unlike proto.Equal, it tells a nil map value from an empty one (protobuf never makes a nil one).
func decodedOtherwise(want proto.Message, wantErr error, got proto.Message, gotErr error) bool {
	if wantErr != nil || gotErr != nil {
		return (wantErr == nil) != (gotErr == nil)
	}
	return diff(want, got) != "" || nilValues(want) != nilValues(got)
}

// nilValues counts the nil property values of a PredictRequest.
func nilValues(m proto.Message) int {
	n := 0
	if r, ok := m.(*leadscorev1.PredictRequest); ok {
		for _, v := range r.GetContact().GetProperties() {
			if v == nil {
				n++
			}
		}
	}
	return n
}

func quote(err error) string {
	if err == nil {
		return "<nil>"
	}
	return "\"" + err.Error() + "\""
}

// TestMarshalInvalidUTF8 marshals answers with invalid UTF-8, which protobuf refuses and the generated
// code does not: the codec refuses them with the proto codec's error.
func TestMarshalInvalidUTF8(t *testing.T) {
	for name, m := range map[string]proto.Message{
		"model":              &leadscorev1.PredictResponse{Model: "\xff"},
		"a rule's detail":    &leadscorev1.PredictResponse{Manual: &leadscorev1.ManualScore{Hits: []*leadscorev1.RuleHit{{Detail: "caf\xc3"}}}},
		"a group's name":     &leadscorev1.PredictResponse{Manual: &leadscorev1.ManualScore{Groups: map[string]float64{"\xff": 1}}},
		"a batch answer":     &leadscorev1.PredictBatchResponse{Responses: []*leadscorev1.PredictResponse{{}, {Error: &leadscorev1.Error{Message: "\xff"}}}},
		"a provenance label": &leadscorev1.GetModelResponse{Model: &leadscorev1.Model{Versions: []*leadscorev1.ModelVersion{{Provenance: &leadscorev1.Provenance{Negative: []string{"ok", "\xff"}}}}}},
		"a property value":   &leadscorev1.PredictRequest{Contact: &leadscorev1.Contact{Properties: map[string]*leadscorev1.Value{"x": {Kind: &leadscorev1.Value_StringValue{StringValue: "\xff"}}}}},
	} {
		t.Run(name, func(t *testing.T) {
			_, wantErr := stock.Marshal(m)
			if wantErr == nil {
				t.Fatal("the proto codec marshals it; the case checks nothing")
			}
			if _, err := m.(interface{ MarshalVT() ([]byte, error) }).MarshalVT(); err != nil {
				t.Fatalf("MarshalVT refuses it too (%v); the case checks nothing", err)
			}
			data, err := Codec{}.Marshal(m)
			if err == nil || err.Error() != wantErr.Error() {
				data.Free()
				t.Fatalf("got error %v, want %v", err, wantErr)
			}
		})
	}
}

// TestMarshalTimestampUnknown marshals messages with a Timestamp that holds unknown fields, which
// protobuf keeps and vtprotobuf's Timestamp drops: the codec keeps them.
func TestMarshalTimestampUnknown(t *testing.T) {
	at := withUnknown(timestamppb.New(benchTime))
	for name, m := range map[string]proto.Message{
		"as_of":           &leadscorev1.PredictRequest{AsOf: at},
		"a value":         &leadscorev1.PredictRequest{Contact: &leadscorev1.Contact{Properties: map[string]*leadscorev1.Value{"a": {}, "t": {Kind: &leadscorev1.Value_TimestampValue{TimestampValue: at}}}}},
		"a batch's as_of": &leadscorev1.PredictBatchRequest{AsOf: at},
		"trained_at":      &leadscorev1.ListModelsResponse{Models: []*leadscorev1.Model{{}, {Versions: []*leadscorev1.ModelVersion{{}, {Provenance: &leadscorev1.Provenance{TrainedAt: at}}}}}},
	} {
		t.Run(name, func(t *testing.T) {
			vt, err := m.(interface{ MarshalVT() ([]byte, error) }).MarshalVT()
			if err != nil {
				t.Fatal(err)
			}
			if back := newOf(m); proto.Unmarshal(vt, back) != nil || proto.Equal(back, m) {
				t.Fatal("MarshalVT keeps the unknown fields; the case checks nothing")
			}
			data, err := Codec{}.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			defer data.Free()
			back := newOf(m)
			if err := proto.Unmarshal(data.Materialize(), back); err != nil {
				t.Fatal(err)
			}
			if d := diff(m, back); d != "" {
				t.Errorf("Codec.Marshal, then proto.Unmarshal (-want +got):\n%s", d)
			}
		})
	}
}
