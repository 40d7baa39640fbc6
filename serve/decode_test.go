package serve

import (
	"context"
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

// decodeCase is a request's bytes, and whether the pooled decoder is to take it (plain) or to
// leave it to the stock decoder.
type decodeCase struct {
	name  string
	b     []byte
	plain bool
}

// decodeCases are requests of every shape the pooled decoder takes, and of shapes it leaves to
// the stock decoder: unknown fields, message fields sent twice (which proto merges), invalid UTF-8
// in each string, wrong wire types, cut data.
func decodeCases(t testing.TB) []decodeCase {
	t.Helper()
	j, err := os.ReadFile("../scripts/bench/serve-request.json")
	if err != nil {
		t.Fatal(err)
	}
	var bench leadscorev1.PredictRequest
	if err := protojson.Unmarshal(j, &bench); err != nil {
		t.Fatal(err)
	}
	marshal := func(m proto.Message) []byte {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	str := func(s string) *leadscorev1.Value {
		return &leadscorev1.Value{Kind: &leadscorev1.Value_StringValue{StringValue: s}}
	}
	num := func(x float64) *leadscorev1.Value {
		return &leadscorev1.Value{Kind: &leadscorev1.Value_NumberValue{NumberValue: x}}
	}
	contactOf := func(n int) *leadscorev1.Contact {
		c := &leadscorev1.Contact{Id: "many", Properties: map[string]*leadscorev1.Value{}}
		for i := range n {
			c.Properties[strings.Repeat("p", i%7+1)+string(rune('a'+i%26))+strings.Repeat("q", i/26)] = num(float64(i))
		}
		return c
	}
	every := &leadscorev1.PredictRequest{
		Model: "leads", Version: 3, Label: "canary", OmitRuleHits: true,
		AsOf: &timestamppb.Timestamp{Seconds: -62135596800, Nanos: 999999999},
		Contact: &leadscorev1.Contact{Id: "é-1", Properties: map[string]*leadscorev1.Value{
			"s": str("Manufacturing"), "long": str(strings.Repeat("x", 200)), "empty": str(""),
			"n": num(-0.0), "nan": num(math.NaN()), "inf": num(math.Inf(-1)),
			"b":     {Kind: &leadscorev1.Value_BoolValue{BoolValue: true}},
			"f":     {Kind: &leadscorev1.Value_BoolValue{}},
			"t":     {Kind: &leadscorev1.Value_TimestampValue{TimestampValue: &timestamppb.Timestamp{Seconds: 1767225600}}},
			"t0":    {Kind: &leadscorev1.Value_TimestampValue{TimestampValue: &timestamppb.Timestamp{}}},
			"unset": {}, "": str("empty name"),
		}},
	}
	b := marshal(&bench)
	tag := func(num protowire.Number, typ protowire.Type) []byte { return protowire.AppendTag(nil, num, typ) }
	bytesField := func(num protowire.Number, v []byte) []byte {
		return protowire.AppendBytes(tag(num, protowire.BytesType), v)
	}
	cat := func(parts ...[]byte) []byte {
		var out []byte
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	ent := func(parts ...[]byte) []byte { return bytesField(2, cat(parts...)) }
	props := func(entries ...[]byte) []byte { return bytesField(4, cat(entries...)) }
	entry := func(parts ...[]byte) []byte { return props(ent(parts...)) }
	bad := []byte{0xff, 'a'}
	return []decodeCase{
		{"bench request", b, true},
		{"every kind", marshal(every), true},
		{"empty", nil, true},
		{"empty contact", marshal(&leadscorev1.PredictRequest{Contact: &leadscorev1.Contact{}}), true},
		{"as many properties as pooled", marshal(&leadscorev1.PredictRequest{Model: "m", Contact: contactOf(maxPooledProperties)}), true},
		{"entry without key", entry(bytesField(2, nil)), true},
		{"entry without value", entry(bytesField(1, []byte("k"))), true},
		{"empty entry", entry(), true},
		{"key twice in an entry", entry(bytesField(1, []byte("a")), bytesField(1, []byte("b")), bytesField(2, nil)), true},
		{"same key twice", props(ent(bytesField(1, []byte("k")), bytesField(2, bytesField(1, []byte("x")))),
			ent(bytesField(1, []byte("k")), bytesField(2, protowire.AppendFixed64(tag(2, protowire.Fixed64Type), 7)))), true},
		{"kinds in turn", entry(bytesField(1, []byte("k")), bytesField(2, cat(bytesField(1, []byte("x")),
			bytesField(4, protowire.AppendVarint(tag(1, protowire.VarintType), 5)), protowire.AppendVarint(tag(3, protowire.VarintType), 2)))), true},
		{"timestamp after another kind", entry(bytesField(1, []byte("k")), bytesField(2, cat(
			bytesField(4, protowire.AppendVarint(tag(1, protowire.VarintType), 5)), bytesField(1, []byte("x")),
			bytesField(4, protowire.AppendVarint(tag(2, protowire.VarintType), 6))))), true},
		{"scalars twice", cat(bytesField(1, []byte("a")), bytesField(1, []byte("b")),
			protowire.AppendVarint(tag(2, protowire.VarintType), 1<<63), protowire.AppendVarint(tag(6, protowire.VarintType), 0)), true},
		{"huge varints", cat(bytesField(5, cat(protowire.AppendVarint(tag(1, protowire.VarintType), math.MaxUint64),
			protowire.AppendVarint(tag(2, protowire.VarintType), 1<<40)))), true},
		// Left to the codec: too large to pool,
		{"more properties than pooled", marshal(&leadscorev1.PredictRequest{Model: "m", Contact: contactOf(maxPooledProperties + 1)}), false},
		{"more bytes than pooled", marshal(&leadscorev1.PredictRequest{Contact: &leadscorev1.Contact{Properties: map[string]*leadscorev1.Value{
			"notes": str(strings.Repeat("x", maxPooledBytes))}}}), false},
		// and of shapes the pooled decoder leaves to it:
		{"contact twice", cat(b, bytesField(4, bytesField(1, []byte("second")))), false},
		{"as_of twice", cat(b, bytesField(5, nil)), false},
		{"value twice in an entry", entry(bytesField(2, bytesField(1, []byte("x"))), bytesField(2, nil)), false},
		{"timestamp twice", entry(bytesField(2, cat(bytesField(4, nil), bytesField(4, nil)))), false},
		{"unknown field", cat(b, protowire.AppendVarint(tag(99, protowire.VarintType), 1)), false},
		{"unknown contact field", bytesField(4, protowire.AppendVarint(tag(3, protowire.VarintType), 1)), false},
		{"unknown value field", entry(bytesField(2, protowire.AppendVarint(tag(9, protowire.VarintType), 1))), false},
		{"unknown timestamp field", bytesField(5, protowire.AppendVarint(tag(3, protowire.VarintType), 1)), false},
		{"wrong wire type", protowire.AppendVarint(tag(4, protowire.VarintType), 1), false},
		{"bad model", bytesField(1, bad), false},
		{"bad label", bytesField(3, bad), false},
		{"bad id", bytesField(4, bytesField(1, bad)), false},
		{"bad key", entry(bytesField(1, bad)), false},
		{"bad text", entry(bytesField(1, []byte("k")), bytesField(2, bytesField(1, bad))), false},
		{"cut", b[:len(b)-3], false},
		{"cut tag", []byte{0x80}, false},
	}
}

// checkDecode decodes b with p and with the stock decoder and fails when the pooled decoder took
// it and gave another message, or took what the stock decoder refuses; it returns whether p took
// it and the message.
func checkDecode(t testing.TB, p *requestPool, b []byte) (bool, *leadscorev1.PredictRequest) {
	t.Helper()
	var want leadscorev1.PredictRequest
	stockErr := proto.Unmarshal(b, &want)
	got := new(leadscorev1.PredictRequest)
	if !p.decode(b, got) {
		if !proto.Equal(got, &leadscorev1.PredictRequest{}) {
			t.Fatalf("declined, and left %v in the message", got)
		}
		return false, got
	}
	if stockErr != nil {
		t.Fatalf("took %x, which the stock decoder refuses: %v", b, stockErr)
	}
	if !proto.Equal(got, &want) {
		t.Fatalf("decoded %x as\n%v\nthe stock decoder as\n%v", b, got, &want)
	}
	return true, got
}

func TestDecodeLikeProto(t *testing.T) {
	cases := decodeCases(t)
	p := newRequestPool()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Twice: the second decodes into the memory the first gave back.
			for range 2 {
				took, m := checkDecode(t, p, c.b)
				if took != c.plain {
					t.Fatalf("pooled decoder took it: %v, want %v", took, c.plain)
				}
				p.release(m)
			}
		})
	}
	// Memory given back serves the next request, with nothing of the last left in it; memory not
	// given back is never handed out again.
	for _, a := range cases {
		for _, b := range cases {
			_, ma := checkDecode(t, p, a.b)
			before := proto.Clone(ma)
			_, mb := checkDecode(t, p, b.b)
			if !proto.Equal(ma, before) {
				t.Fatalf("decoding %s changed the request of %s, still being served", b.name, a.name)
			}
			p.release(mb)
			p.release(ma)
		}
	}
}

// TestHandoverPlacesTakenBack: memory never taken back (its call failed between hand-over and
// take-back) keeps its place only until other memory is handed over there, so pooling goes on.
func TestHandoverPlacesTakenBack(t *testing.T) {
	var h handover[int]
	stuck := make([]int, 4<<handoverBits) // addresses enough to fill every place
	for i := range stuck {
		h.hand(unsafe.Pointer(&stuck[i]), &stuck[i])
	}
	for i := range 100 {
		v := new(int)
		h.hand(unsafe.Pointer(v), v)
		if got := h.take(unsafe.Pointer(v), func(x *int) bool { return x == v }); got != v {
			t.Fatalf("memory %d handed over was not taken back: its place kept earlier memory", i)
		}
	}
}

// TestFailedCallPinsLittle: a unary Predict whose client sends a second message fails after its
// request was decoded and before its handler runs, so its pooled memory is never given back. Without
// a token, twenty such calls with contacts of 50,000 properties must not keep their contacts alive.
func TestFailedCallPinsLittle(t *testing.T) {
	fx := newFixture(t, RegistryOptions{})
	srv := mustServer(t, fx.reg, Options{AuthToken: "secret"})
	conn, err := grpc.NewClient(startTCP(t, srv), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := &leadscorev1.Contact{Id: "big", Properties: map[string]*leadscorev1.Value{}}
	for i := range 50000 {
		c.Properties[fmt.Sprintf("property_%06d", i)] = num(float64(i))
	}
	req := &leadscorev1.PredictRequest{Model: "lead", Contact: c}
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	for range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cs, err := conn.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true}, leadscorev1.LeadScoring_Predict_FullMethodName)
		if err != nil {
			t.Fatal(err)
		}
		if err := cs.SendMsg(req); err != nil {
			t.Fatal(err)
		}
		_ = cs.SendMsg(req) // the second message of a unary call: the server refuses the call
		_ = cs.CloseSend()
		if err := cs.RecvMsg(new(leadscorev1.PredictResponse)); status.Code(err) == codes.OK {
			t.Fatal("a unary call of two messages was answered")
		}
		cancel()
	}
	// Each request decodes to about 6 MB; twenty kept would be 120 MB.
	if grew := int64(heap()) - int64(before); grew > 24<<20 {
		t.Fatalf("the live heap grew %d MB after 20 failed calls", grew>>20)
	}
	runtime.KeepAlive(req)
}

func FuzzDecodeLikeProto(f *testing.F) {
	for _, c := range decodeCases(f) {
		f.Add(c.b)
	}
	p := newRequestPool()
	f.Fuzz(func(t *testing.T, b []byte) {
		_, m := checkDecode(t, p, b)
		p.release(m)
	})
}

// BenchmarkDecodeRequest decodes the request of scripts/bench/serve-request.json with the stock
// decoder and into pooled memory, given back after each call as the server does.
func BenchmarkDecodeRequest(b *testing.B) {
	data := decodeCases(b)[0].b
	b.Run("decoder=stock", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var m leadscorev1.PredictRequest
			if err := proto.Unmarshal(data, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decoder=pooled", func(b *testing.B) {
		p := newRequestPool()
		b.ReportAllocs()
		for b.Loop() {
			m := new(leadscorev1.PredictRequest)
			if !p.decode(data, m) {
				b.Fatal("declined")
			}
			p.release(m)
		}
	})
}
