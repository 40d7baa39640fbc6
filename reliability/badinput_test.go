package reliability

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/leadscore/leadscore/models/rules"
	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
	"github.com/leadscore/leadscore/serve"
	"github.com/leadscore/leadscore/store"
	"github.com/leadscore/leadscore/train/dataset"
)

// rawCodec sends bytes as they are, to put what is not a valid message on the wire.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return v.([]byte), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*(v.(*[]byte)) = bytes.Clone(data)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// TestHostileRequests sends requests no well-behaved client sends. Each gets its expected code, with
// a message that names the problem, and the server answers a normal call afterwards.
func TestHostileRequests(t *testing.T) {
	a, contacts := mustTrained(t)
	st := store.OpenDir(t.TempDir())
	mustPublish(t, st, a, 0)
	p := startInproc(t, st, time.Hour, serve.Options{})
	strict := startInproc(t, st, time.Hour, serve.Options{Strict: true})

	withProps := func(props map[string]*leadscorev1.Value) *leadscorev1.PredictRequest {
		return &leadscorev1.PredictRequest{Model: modelName, Contact: &leadscorev1.Contact{Id: "C1", Properties: props}}
	}
	ts := func(sec int64) *leadscorev1.Value {
		return &leadscorev1.Value{Kind: &leadscorev1.Value_TimestampValue{TimestampValue: &timestamppb.Timestamp{Seconds: sec}}}
	}
	flag := &leadscorev1.Value{Kind: &leadscorev1.Value_BoolValue{BoolValue: true}}
	huge := strings.Repeat("x", 1<<20)
	tests := []struct {
		name string
		srv  *inproc
		req  *leadscorev1.PredictRequest
		want codes.Code
		msg  string // the message must contain it
	}{
		{"1 MB string value", p, withProps(map[string]*leadscorev1.Value{"industry": str(huge)}), codes.InvalidArgument, `property "industry"`},
		{"string value at the limit", p, withProps(map[string]*leadscorev1.Value{"industry": str(strings.Repeat("x", serve.MaxPropertyValue))}), codes.OK, ""},
		{"1 MB property name", p, withProps(map[string]*leadscorev1.Value{huge: num(1)}), codes.InvalidArgument, "a name of 1048576 bytes"},
		{"too many properties", p, withProps(manyProps(serve.MaxProperties + 1)), codes.InvalidArgument, "1001 properties"},
		{"properties at the limit", p, withProps(manyProps(serve.MaxProperties)), codes.OK, ""},
		{"17 MB string, over the message limit", p, withProps(map[string]*leadscorev1.Value{"industry": str(strings.Repeat("x", 17<<20))}), codes.ResourceExhausted, "larger than max"},
		{"bool for a number property", p, withProps(map[string]*leadscorev1.Value{"visits": flag}), codes.InvalidArgument, "visits"},
		{"text for a number property", p, withProps(map[string]*leadscorev1.Value{"visits": str("many")}), codes.InvalidArgument, "visits"},
		{"timestamp for a number property", p, withProps(map[string]*leadscorev1.Value{"visits": ts(1700000000)}), codes.InvalidArgument, "visits"},
		// A category column takes any value by its text (features.ColumnEncoding), so 7 is "7".
		{"number for a category property", p, withProps(map[string]*leadscorev1.Value{"industry": num(7)}), codes.OK, ""},
		{"NaN", p, withProps(map[string]*leadscorev1.Value{"visits": num(math.NaN())}), codes.InvalidArgument, "visits"},
		{"+Inf", p, withProps(map[string]*leadscorev1.Value{"employees": num(math.Inf(1))}), codes.InvalidArgument, "employees"},
		{"-Inf in an unknown property", p, withProps(map[string]*leadscorev1.Value{"nobody_knows": num(math.Inf(-1))}), codes.InvalidArgument, "nobody_knows"},
		// Text "NaN" is a missing value, as in a CSV file (issue 10: one value parser); a NaN number is refused above.
		{"numeric text NaN", p, withProps(map[string]*leadscorev1.Value{"visits": str("NaN")}), codes.OK, ""},
		{"negative count", p, withProps(map[string]*leadscorev1.Value{"visits": num(-5), "page_views": num(-1e9)}), codes.OK, ""},
		{"largest finite number", p, withProps(map[string]*leadscorev1.Value{"employees": num(math.MaxFloat64), "visits": num(-math.MaxFloat64)}), codes.OK, ""},
		{"timestamp out of range", p, withProps(map[string]*leadscorev1.Value{"created_at": ts(1 << 60)}), codes.InvalidArgument, "created_at"},
		{"unknown property", p, withProps(map[string]*leadscorev1.Value{"shoe_size": num(44), "visits": num(3)}), codes.OK, ""},
		{"unknown property, strict server", strict, withProps(map[string]*leadscorev1.Value{"shoe_size": num(44), "visits": num(3)}), codes.InvalidArgument, "shoe_size"},
		// A contact with none of the model's properties would get the same score as any other.
		{"empty contact", p, withProps(nil), codes.InvalidArgument, "none of the"},
		{"no contact", p, &leadscorev1.PredictRequest{Model: modelName}, codes.InvalidArgument, "none of the"},
		{"as_of out of range", p, &leadscorev1.PredictRequest{Model: modelName, AsOf: &timestamppb.Timestamp{Seconds: -1 << 60}}, codes.InvalidArgument, "as_of"},
		{"no model name", p, &leadscorev1.PredictRequest{}, codes.InvalidArgument, "model"},
		{"model ../x", p, &leadscorev1.PredictRequest{Model: "../x"}, codes.NotFound, "../x"},
		{"model ../../etc/passwd", p, &leadscorev1.PredictRequest{Model: "../../etc/passwd"}, codes.NotFound, ""},
		{"model lead/../lead", p, &leadscorev1.PredictRequest{Model: "lead/../lead"}, codes.NotFound, ""},
		{"model name with NUL", p, &leadscorev1.PredictRequest{Model: "lead\x00"}, codes.NotFound, ""},
		{"negative version", p, &leadscorev1.PredictRequest{Model: modelName, Version: -1}, codes.InvalidArgument, "negative"},
		{"version 2^62", p, &leadscorev1.PredictRequest{Model: modelName, Version: 1 << 62}, codes.NotFound, ""},
		{"unknown label", p, &leadscorev1.PredictRequest{Model: modelName, Label: "../stable"}, codes.NotFound, "label"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := tt.srv.client.Predict(ctx, tt.req)
			if got := status.Code(err); got != tt.want {
				t.Fatalf("got %v, want code %v", err, tt.want)
			}
			if msg := status.Convert(err).Message(); !strings.Contains(msg, tt.msg) {
				t.Errorf("message %q does not contain %q", msg, tt.msg)
			}
		})
	}

	batches := []struct {
		name string
		n    int
		c    *leadscorev1.Contact
		want codes.Code
		msg  string
	}{
		{"10^6 empty contacts, over the batch limit", 1_000_000, &leadscorev1.Contact{}, codes.InvalidArgument, "limit is 10000"},
		{"10^5 contacts of 200 bytes, over the message limit", 100_000, &leadscorev1.Contact{Id: strings.Repeat("c", 200)}, codes.ResourceExhausted, "larger than max"},
		{"10^4 contacts, at the batch limit", 10_000, contacts[0], codes.OK, ""},
	}
	for _, tt := range batches {
		t.Run(tt.name, func(t *testing.T) {
			req := &leadscorev1.PredictBatchRequest{Model: modelName, Contacts: make([]*leadscorev1.Contact, tt.n)}
			for i := range req.Contacts {
				req.Contacts[i] = tt.c
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			// The answer to 10^4 contacts is about 14 MB, above grpc-go's default 4 MB for receiving.
			_, err := p.client.PredictBatch(ctx, req, grpc.MaxCallRecvMsgSize(64<<20))
			if got := status.Code(err); got != tt.want {
				t.Fatalf("got %v, want code %v", err, tt.want)
			}
			if msg := status.Convert(err).Message(); !strings.Contains(msg, tt.msg) {
				t.Errorf("message %q does not contain %q", msg, tt.msg)
			}
		})
	}

	valid, err := proto.Marshal(&leadscorev1.PredictRequest{Model: modelName, Contact: contacts[0]})
	if err != nil {
		t.Fatal(err)
	}
	raws := []struct {
		name string
		data []byte
		want codes.Code
	}{
		{"not protobuf", []byte("\xff\xff\xff\xff garbage"), codes.Internal},
		{"truncated message", valid[:len(valid)/2], codes.Internal},
		{"10^5 nested groups", bytes.Repeat([]byte{0x7b}, 100_000), codes.Internal},
		{"valid message sent raw", valid, codes.OK},
	}
	for _, tt := range raws {
		t.Run(tt.name, func(t *testing.T) {
			var out []byte
			err := p.conn.Invoke(context.Background(), "/"+serve.ServiceName+"/Predict", tt.data, &out, grpc.ForceCodec(rawCodec{}))
			if got := status.Code(err); got != tt.want {
				t.Errorf("got %v, want code %v", err, tt.want)
			}
		})
	}

	for _, name := range []string{"../lead", "..", "", "lead/../../x"} {
		_, err := p.client.GetModel(context.Background(), &leadscorev1.GetModelRequest{Name: name})
		if got := status.Code(err); got != codes.NotFound {
			t.Errorf("GetModel(%q): got %v, want NotFound", name, err)
		}
	}

	resp, err := p.client.Predict(context.Background(), &leadscorev1.PredictRequest{Model: modelName, Contact: contacts[0]})
	if err != nil || resp.GetModelVersion() != 1 {
		t.Errorf("a normal call after the catalogue: version %d, %v", resp.GetModelVersion(), err)
	}
}

// TestHostileFiles reads malformed data and rules files: each is refused with its error, nothing
// panics, and reading a data file of at most 400 KB allocates less than 64 MB. (Corrupt model files
// are TestBrokenVersions and FuzzDecodeArtifact.)
//
// The Parquet cases whose footer claims a length of 2 or 4 GB fail the allocation bound today:
// parquet-go allocates the claimed length before it finds the offset negative, so 16 bytes cost 4 GB.
// dataset.ReadParquet could check the footer length against the file size before parquet.OpenFile.
func TestHostileFiles(t *testing.T) {
	dir := t.TempDir()
	parquetData, err := os.ReadFile(contactsFile)
	if err != nil {
		t.Fatal(err)
	}
	data := []struct {
		name, file string
		content    []byte
		want       error
	}{
		{"empty Parquet file", "empty.parquet", nil, dataset.ErrCorrupt},
		{"text named .parquet", "text.parquet", []byte("contact_id,deal_stage\nC1,closedwon\n"), dataset.ErrCorrupt},
		{"Parquet magic around garbage", "garbage.parquet", []byte("PAR1\xff\x01\x02\x03\x04\x00\x00\x00PAR1"), dataset.ErrCorrupt},
		{"Parquet footer length 4 GB", "footer4g.parquet", []byte("PAR1\x00\x01\x02\x03\xff\xff\xff\xffPAR1"), dataset.ErrCorrupt},
		{"Parquet cut in half", "half.parquet", parquetData[:len(parquetData)/2], dataset.ErrCorrupt},
		{"Parquet footer length 2 GB", "footer2g.parquet", append(bytes.Clone(parquetData[:len(parquetData)-8]), 0xff, 0xff, 0xff, 0x7f, 'P', 'A', 'R', '1'), dataset.ErrCorrupt},
		{"empty CSV", "empty.csv", nil, dataset.ErrEmpty},
		{"CSV of blank lines", "blank.csv", []byte("\n\n\r\n  \n"), dataset.ErrEmpty},
		{"CSV ragged row", "ragged.csv", []byte("a,b,c\n1,2,3\n4,5\n"), dataset.ErrRaggedRow},
		{"CSV duplicate column", "dup.csv", []byte("a,b,a\n1,2,3\n"), dataset.ErrDuplicateColumn},
		{"CSV empty column name", "noname.csv", []byte("a,,c\n1,2,3\n"), dataset.ErrNoHeader},
		{"CSV unbalanced quote", "quote.csv", []byte("a,b\n\"1,2\n3,4\n"), csvErr},
		{"CSV unknown extension", "data.xlsx", []byte("PK\x03\x04"), dataset.ErrFormat},
	}
	for _, tt := range data {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			if err := os.WriteFile(path, tt.content, 0o644); err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := dataset.ReadFile(path, dataset.ReadOptions{})
			runtime.ReadMemStats(&after)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
				t.Errorf("reading %d bytes allocated %d MB", len(tt.content), alloc>>20)
			}
			var pe *dataset.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v (%T), want a *dataset.ParseError", err, err)
			}
			if tt.want != csvErr && !errors.Is(err, tt.want) {
				t.Errorf("got %v, want an error wrapping %v", err, tt.want)
			}
		})
	}

	deep := strings.Repeat("[", 20_000) + strings.Repeat("]", 20_000)
	laughs := "a: &a [x, x, x, x, x, x, x, x, x]\n"
	for i := 'b'; i <= 'j'; i++ {
		prev := string(i - 1)
		laughs += string(i) + ": &" + string(i) + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
	}
	rulesFiles := []struct {
		name string
		yaml string
		want error
	}{
		{"empty", "", rules.ErrMissing},
		{"tab indentation", "rules:\n\t- name: x\n", rules.ErrSyntax},
		{"two documents", "name: a\n---\nname: b\n", rules.ErrSyntax},
		{"unknown key", "name: a\nrulez: []\n", rules.ErrUnknownKey},
		{"points as text", "groups: [{name: fit}]\nrules:\n  - {name: r, group: fit, points: many, when: {visits: 1}}\n", rules.ErrType},
		{"20,000 nested lists", deep, rules.ErrSyntax},
		{"billion laughs", laughs, rules.ErrType}, // rules files refuse aliases outright
		{"binary", "\x00\x01\x02\xff\xfe", rules.ErrSyntax},
	}
	for _, tt := range rulesFiles {
		t.Run("rules "+tt.name, func(t *testing.T) {
			_, err := rules.Parse([]byte(tt.yaml))
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want an error wrapping %v", err, tt.want)
			}
			var re *rules.Error
			if !errors.As(err, &re) {
				t.Errorf("got %T, want a *rules.Error", err)
			}
		})
	}
}

// csvErr marks a case where any *dataset.ParseError will do (the CSV reader's own message).
var csvErr = errors.New("any parse error")

// manyProps returns n properties with numbers: visits, then p1, p2, ...
func manyProps(n int) map[string]*leadscorev1.Value {
	m := make(map[string]*leadscorev1.Value, n)
	for i := range n {
		m["p"+strconv.Itoa(i)] = num(float64(i))
	}
	if n > 0 { // one property the model reads, so that the contact is not refused as mis-mapped
		delete(m, "p0")
		m["visits"] = num(3)
	}
	return m
}
