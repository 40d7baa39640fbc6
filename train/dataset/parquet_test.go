package dataset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"

	"github.com/leadscore/leadscore/features"
)

type nestedFixture struct {
	Score *float64 `parquet:"score,optional"`
}

// typesFixture covers the physical and logical types a contact export may use; pointers are
// optional columns.
type typesFixture struct {
	I32     int32            `parquet:"i32"`
	I64     int64            `parquet:"i64"`
	I8      int8             `parquet:"i8"`
	U32     uint32           `parquet:"u32"`
	U64     uint64           `parquet:"u64"`
	F32     float32          `parquet:"f32"`
	F64     float64          `parquet:"f64"`
	Bool    bool             `parquet:"bool"`
	Str     string           `parquet:"str"`
	Dict    string           `parquet:"dict,dict"`
	Enum    string           `parquet:"enum,enum"`
	Bytes   []byte           `parquet:"bytes"`
	Day     int32            `parquet:"day,date"`
	TsMs    time.Time        `parquet:"ts_ms,timestamp(millisecond)"`
	TsUs    int64            `parquet:"ts_us,timestamp(microsecond)"`
	TsNs    time.Time        `parquet:"ts_ns,timestamp(nanosecond)"`
	T96     deprecated.Int96 `parquet:"t96"`
	Dec     int64            `parquet:"dec,decimal(2:18)"`
	UUID    [16]byte         `parquet:"uuid,uuid"`
	OptI32  *int32           `parquet:"opt_i32,optional"`
	OptI64  *int64           `parquet:"opt_i64,optional"`
	OptF32  *float32         `parquet:"opt_f32,optional"`
	OptF64  *float64         `parquet:"opt_f64,optional"`
	OptBool *bool            `parquet:"opt_bool,optional"`
	OptStr  *string          `parquet:"opt_str,optional"`
	OptDay  *int32           `parquet:"opt_day,date"`
	OptTs   *time.Time       `parquet:"opt_ts,timestamp(microsecond)"`
	Nested  *nestedFixture   `parquet:"nested,optional"`
}

func ptr[T any](v T) *T { return &v }

// typesRows: row 0 sets every optional column, row 1 leaves them all NULL (and holds a NaN),
// row 2 sets the optional group but not the leaf inside it.
func typesRows() []typesFixture {
	tsNs := time.Date(2024, 3, 1, 12, 30, 45, 123456789, time.UTC)
	// INT96: nanoseconds of the day in the first 8 bytes, then the Julian day; 2451545 is
	// 2000-01-01, and 45000 s is 12:30.
	nanos := uint64(45000 * time.Second)
	t96 := deprecated.Int96{uint32(nanos), uint32(nanos >> 32), 2451545}
	uuid := [16]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	return []typesFixture{
		{I32: -5, I64: 1 << 40, I8: -8, U32: 4000000000, U64: 1 << 63, F32: 1.5, F64: -2.25, Bool: true,
			Str: "alpha", Dict: "x", Enum: "open", Bytes: []byte("raw"), Day: 10957,
			TsMs: time.UnixMilli(1709296245123).UTC(), TsUs: 1700000000123456, TsNs: tsNs, T96: t96, Dec: 12345, UUID: uuid,
			OptI32: ptr[int32](7), OptI64: ptr[int64](-9), OptF32: ptr[float32](0.25), OptF64: ptr(3.5), OptBool: ptr(false),
			OptStr: ptr(""), OptDay: ptr[int32](1), OptTs: ptr(time.Unix(86400, 5000).UTC()),
			Nested: &nestedFixture{Score: ptr(0.5)}},
		{I32: 0, I64: 0, F64: math.NaN(), Str: "beta", Dict: "y", Enum: "won", Bytes: []byte{}, TsMs: time.Unix(0, 0).UTC(),
			TsNs: time.Unix(0, 0).UTC()},
		{I32: 2147483647, I64: -1, Str: "gamma", Dict: "x", Enum: "lost", Bytes: []byte("b"), TsMs: time.Unix(0, 0).UTC(),
			TsNs: time.Unix(0, 0).UTC(), F64: math.Inf(1), Nested: &nestedFixture{}},
	}
}

func writeFixture[T any](t testing.TB, rows []T, opts ...parquet.WriterOption) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fixture.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[T](f, opts...)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadParquetTypes(t *testing.T) {
	path := writeFixture(t, typesRows())
	got, err := ReadFile(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
	num, flag, str := features.Number, features.Flag, features.String
	at := func(sec float64) features.Value { return features.Timestamp(features.UnixTime(sec)) }
	none := features.Value{}
	// Expected values worked out by hand from typesRows.
	tests := []struct {
		column string
		kind   features.Kind
		want   []features.Value
	}{
		{"i32", features.KindNumber, []features.Value{num(-5), num(0), num(2147483647)}},
		{"i64", features.KindNumber, []features.Value{num(1099511627776), num(0), num(-1)}},
		{"i8", features.KindNumber, []features.Value{num(-8), num(0), num(0)}},
		{"u32", features.KindNumber, []features.Value{num(4e9), num(0), num(0)}},
		{"u64", features.KindNumber, []features.Value{num(9223372036854775808), num(0), num(0)}},
		{"f32", features.KindNumber, []features.Value{num(1.5), num(0), num(0)}},
		{"f64", features.KindNumber, []features.Value{num(-2.25), none, none}},
		{"bool", features.KindFlag, []features.Value{flag(true), flag(false), flag(false)}},
		{"str", features.KindCategory, []features.Value{str("alpha"), str("beta"), str("gamma")}},
		{"dict", features.KindCategory, []features.Value{str("x"), str("y"), str("x")}},
		{"enum", features.KindCategory, []features.Value{str("open"), str("won"), str("lost")}},
		{"bytes", features.KindCategory, []features.Value{str("raw"), none, str("b")}}, // blank is missing, as in CSV
		{"day", features.KindTime, []features.Value{at(946684800), at(0), at(0)}},
		{"ts_ms", features.KindTime, []features.Value{at(1709296245.123), at(0), at(0)}},
		{"ts_us", features.KindTime, []features.Value{at(1700000000.123456), at(0), at(0)}},
		{"ts_ns", features.KindTime, []features.Value{at(1709296245.123456789), at(0), at(0)}},
		{"t96", features.KindTime, []features.Value{at(946729800), at(-210866803200), at(-210866803200)}},
		{"dec", features.KindNumber, []features.Value{num(123.45), num(0), num(0)}},
		{"uuid", features.KindCategory, []features.Value{str("00010203-0405-0607-0809-0a0b0c0d0e0f"),
			str("00000000-0000-0000-0000-000000000000"), str("00000000-0000-0000-0000-000000000000")}},
		{"opt_i32", features.KindNumber, []features.Value{num(7), none, none}},
		{"opt_i64", features.KindNumber, []features.Value{num(-9), none, none}},
		{"opt_f32", features.KindNumber, []features.Value{num(0.25), none, none}},
		{"opt_f64", features.KindNumber, []features.Value{num(3.5), none, none}},
		{"opt_bool", features.KindFlag, []features.Value{flag(false), none, none}},
		{"opt_str", features.KindCategory, []features.Value{none, none, none}},
		{"opt_day", features.KindTime, []features.Value{at(86400), none, none}},
		{"opt_ts", features.KindTime, []features.Value{at(86400.000005), none, none}},
		{"nested.score", features.KindNumber, []features.Value{num(0.5), none, none}},
	}
	if len(got.Columns) != len(tests) {
		t.Errorf("got %d columns, want %d", len(got.Columns), len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.column, func(t *testing.T) {
			c := got.Column(tt.column)
			if c == nil {
				t.Fatalf("column missing; have %v", columnNames(got))
			}
			if got.Columns[i] != c {
				t.Errorf("column is not at position %d (file order)", i)
			}
			if c.Kind != tt.kind {
				t.Fatalf("kind: got %s, want %s", c.Kind, tt.kind)
			}
			for row, want := range tt.want {
				if g := c.Value(row); !sameValue(g, want) {
					t.Errorf("row %d: got %+v, want %+v", row, g, want)
				}
			}
		})
	}
}

// sameValue compares values, allowing times and numbers a relative error of 1e-12 for the
// float64 holding Unix seconds and the float32 and decimal conversions.
func sameValue(a, b features.Value) bool {
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case features.KindTime:
		return a.Time.Sub(b.Time).Abs() <= time.Microsecond
	case features.KindNumber:
		return math.Abs(a.Num-b.Num) <= 1e-12*math.Max(1, math.Abs(b.Num))
	}
	return a == b
}

func columnNames(f *features.Frame) []string {
	var names []string
	for _, c := range f.Columns {
		names = append(names, c.Name)
	}
	return names
}

type pagedFixture struct {
	ID    int64    `parquet:"id"`
	Score *float64 `parquet:"score,optional"`
	Name  *string  `parquet:"name,optional,dict"`
}

// Many small pages and row groups, with NULLs falling across page boundaries.
func TestReadParquetPagesAndRowGroups(t *testing.T) {
	const n = 5000
	rows := make([]pagedFixture, n)
	for i := range rows {
		rows[i].ID = int64(i)
		if i%3 != 0 {
			rows[i].Score = ptr(float64(i) / 4)
		}
		if i%5 != 0 {
			rows[i].Name = ptr([]string{"a", "b", "c"}[i%3])
		}
	}
	path := writeFixture(t, rows, parquet.MaxRowsPerRowGroup(700), parquet.PageBufferSize(512))
	got, err := ReadFile(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() != n {
		t.Fatalf("got %d rows, want %d", got.Len(), n)
	}
	id, score, name := got.Column("id"), got.Column("score"), got.Column("name")
	for i := range n {
		if id.Num[i] != float64(i) || !id.Valid[i] {
			t.Fatalf("id row %d: got %v %t", i, id.Num[i], id.Valid[i])
		}
		if wantValid := i%3 != 0; score.Valid[i] != wantValid || (wantValid && score.Num[i] != float64(i)/4) {
			t.Fatalf("score row %d: got %v %t", i, score.Num[i], score.Valid[i])
		}
		if wantValid := i%5 != 0; name.Valid[i] != wantValid || (wantValid && name.Str[i] != []string{"a", "b", "c"}[i%3]) {
			t.Fatalf("name row %d: got %q %t", i, name.Str[i], name.Valid[i])
		}
	}
}

func TestReadParquetOptions(t *testing.T) {
	path := writeFixture(t, typesRows())
	tests := []struct {
		name    string
		opts    ReadOptions
		columns []string
		check   func(t *testing.T, f *features.Frame)
		wantErr error
	}{
		{name: "projection keeps file order", opts: ReadOptions{Columns: []string{"str", "i32"}},
			columns: []string{"i32", "str"}},
		{name: "number forced to category", opts: ReadOptions{Columns: []string{"i64"}, Kinds: map[string]features.Kind{"i64": features.KindCategory}},
			columns: []string{"i64"}, check: func(t *testing.T, f *features.Frame) {
				c := f.Column("i64")
				if got, want := c.Str, []string{"1099511627776", "0", "-1"}; !equalStrings(got, want) {
					t.Errorf("got %q, want %q", got, want)
				}
			}},
		{name: "category forced to number fails", opts: ReadOptions{Kinds: map[string]features.Kind{"str": features.KindNumber}},
			wantErr: ErrBadValue},
		{name: "unknown column", opts: ReadOptions{Columns: []string{"nope"}}, wantErr: ErrUnknownColumn},
		{name: "unknown forced column", opts: ReadOptions{Kinds: map[string]features.Kind{"nope": features.KindFlag}}, wantErr: ErrUnknownColumn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ReadFile(path, tt.opts)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got error %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := columnNames(f); !equalStrings(got, tt.columns) {
				t.Errorf("columns: got %q, want %q", got, tt.columns)
			}
			if tt.check != nil {
				tt.check(t, f)
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00") && len(a) == len(b)
}

type repeatedFixture struct {
	ID   int64    `parquet:"id"`
	Tags []string `parquet:"tags,list"`
}

func TestReadParquetRepeated(t *testing.T) {
	path := writeFixture(t, []repeatedFixture{{ID: 1, Tags: []string{"a", "b"}}, {ID: 2}})
	_, err := ReadFile(path, ReadOptions{})
	var pe *ParseError
	if !errors.Is(err, ErrUnsupported) || !errors.As(err, &pe) || pe.Column != "tags.list.element" {
		t.Fatalf("got %v, want ErrUnsupported naming tags.list.element", err)
	}
	f, err := ReadFile(path, ReadOptions{Columns: []string{"id"}})
	if err != nil {
		t.Fatalf("projecting the list out: %v", err)
	}
	if f.Len() != 2 {
		t.Errorf("got %d rows, want 2", f.Len())
	}
}

func TestReadParquetMalformed(t *testing.T) {
	good, err := os.ReadFile(writeFixture(t, typesRows()))
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(good)
	for i := 8; i < len(flipped)/2; i += 7 {
		flipped[i] ^= 0x5a
	}
	tests := []struct {
		name     string
		data     []byte
		wantErr  error // nil: any *ParseError or success is fine, as long as nothing panics
		mustFail bool
	}{
		{"empty", nil, ErrCorrupt, true},
		{"not parquet", []byte("id,name\n1,a\n"), ErrCorrupt, true},
		{"magic only", []byte("PAR1PAR1"), ErrCorrupt, true},
		{"truncated", good[:len(good)/2], ErrCorrupt, true},
		{"footer cut", good[:len(good)-3], ErrCorrupt, true},
		{"corrupt pages", flipped, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.parquet")
			if err := os.WriteFile(path, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadFile(path, ReadOptions{})
			if tt.mustFail && err == nil {
				t.Fatal("got no error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
			var pe *ParseError
			if err != nil && !errors.As(err, &pe) {
				t.Errorf("got %T %v, want a *ParseError", err, err)
			}
			if err != nil && !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

// FuzzReadParquet mutates a valid file: reading may fail but must not panic, and a frame it
// returns must be consistent.
func FuzzReadParquet(f *testing.F) {
	good, err := os.ReadFile(writeFixture(f, typesRows()))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte("PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		frame, err := ReadParquet(bytes.NewReader(data), int64(len(data)), "fuzz.parquet", ReadOptions{})
		if err != nil {
			return
		}
		if err := frame.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestReserve: columns read row group by row group end with the capacity of the file's rows, and a
// claim of more rows than were read is trusted no further than twice the rows read or the rows the
// file's size makes believable; a claim within those is allocated at once, without growing again.
func TestReserve(t *testing.T) {
	tests := []struct {
		name         string
		total, group int // rows the footer claims, rows per row group
		groups       int // row groups read
		trusted      int // rows the file's size makes believable
		wantCap      int
		wantGrowths  int // times the capacity changes; -1: not checked
	}{
		{"small file", 1000, 100, 10, preallocMax, 1000, 0},
		{"past the preallocation", 3*preallocMax + 7, preallocMax / 2, 7, preallocMax, 3*preallocMax + 7, -1},
		{"past the preallocation, a large file", 3*preallocMax + 7, preallocMax / 2, 7, 4 * preallocMax, 3*preallocMax + 7, 1},
		{"a footer claiming too many rows", 100 * preallocMax, preallocMax / 2, 5, preallocMax, 4 * preallocMax, -1},
		{"a footer claiming more rows than the file's size allows", 100 * preallocMax, preallocMax / 2, 5, 3 * preallocMax, 3 * preallocMax, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, kind := range []features.Kind{features.KindCategory, features.KindNumber, features.KindFlag} {
				c := newColumn("x", kind, min(tt.total, preallocMax))
				growths := 0
				for g := range tt.groups {
					n := min(tt.group, tt.total-g*tt.group)
					before := cap(c.Valid)
					reserve(c, n, tt.total, tt.trusted)
					if cap(c.Valid) != before {
						growths++
					}
					c.Valid = append(c.Valid, make([]bool, n)...)
					switch kind {
					case features.KindCategory:
						c.Str = append(c.Str, make([]string, n)...)
					case features.KindNumber:
						c.Num = append(c.Num, make([]float64, n)...)
					default:
						c.Bool = append(c.Bool, make([]bool, n)...)
					}
				}
				data := map[features.Kind]int{features.KindCategory: cap(c.Str), features.KindNumber: cap(c.Num), features.KindFlag: cap(c.Bool)}[kind]
				if cap(c.Valid) != tt.wantCap || data != tt.wantCap {
					t.Errorf("%s: capacity %d (data %d) after %d rows, want %d", kind, cap(c.Valid), data, c.Len(), tt.wantCap)
				}
				if tt.wantGrowths >= 0 && growths != tt.wantGrowths {
					t.Errorf("%s: the capacity changed %d times, want %d", kind, growths, tt.wantGrowths)
				}
			}
		})
	}
}

// TestFooterClaimingMoreRows: a file whose footer claims more rows than its row groups hold (the
// count a writer got wrong, or a hostile file) is read by its row groups: whole or a column at a
// time, the same rows, and memory for those rows only.
func TestFooterClaimingMoreRows(t *testing.T) {
	const n = 300_000
	f := &features.Frame{Columns: []*features.Column{features.NewColumn("x", features.KindNumber, n)}}
	for i := range n {
		f.Columns[0].Num[i], f.Columns[0].Valid[i] = float64(i%977)/7, true
	}
	path := filepath.Join(t.TempDir(), "x.parquet")
	if err := WriteFile(path, f); err != nil {
		t.Fatal(err)
	}
	// FileMetaData.num_rows is field 3, an i64: the compact protocol's header byte 0x16, then the
	// zigzag varint of the count. Claim 1M rows, a varint of the same length.
	zigzag := func(x uint64) []byte { return binary.AppendUvarint(nil, 2*x) }
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	size := int(binary.LittleEndian.Uint32(data[len(data)-8:]))
	footer := data[len(data)-8-size : len(data)-8]
	old, claim := append([]byte{0x16}, zigzag(n)...), zigzag(1_000_000)
	k := bytes.Index(footer, old)
	if k < 0 || len(claim) != len(old)-1 || bytes.Index(footer[k+1:], old) >= 0 {
		t.Fatalf("the footer's row count (%x) is not found once", old)
	}
	copy(footer[k+1:], claim)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	whole, err := ReadFiles([]string{path}, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := whole.Columns[0]; c.Len() != n || cap(c.Num) != n || cap(c.Valid) != n {
		t.Errorf("read whole: %d rows, capacity %d (valid %d); want %d and no more", c.Len(), cap(c.Num), cap(c.Valid), n)
	}
	cf, err := OpenColumns([]string{path}, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	col, err := cf.Load("x")
	if err != nil || cf.Len() != n || !reflect.DeepEqual(col, whole.Columns[0]) {
		t.Errorf("a column at a time: %d rows, %v; want the %d rows read whole", cf.Len(), err, n)
	}
}
