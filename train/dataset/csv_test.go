package dataset

import (
	"bytes"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/leadscore/leadscore/features"
)

// na marks a missing value in the expected columns below.
const na = "<NA>"

type wantColumn struct {
	name   string
	kind   features.Kind
	values []string // Value.Text of each row, na for missing
}

var csvTests = []struct {
	name string
	in   string
	opts ReadOptions
	want []wantColumn
}{
	{name: "comma", in: "id,age,ok\nA,31,true\nB,47.5,False\n",
		want: []wantColumn{
			{"id", features.KindCategory, []string{"A", "B"}},
			{"age", features.KindNumber, []string{"31", "47.5"}},
			{"ok", features.KindFlag, []string{"true", "false"}},
		}},
	{name: "semicolon with quotes and CRLF", in: "\"job\";\"y\";\"n\"\r\n\"admin.\";\"no\";1\r\n\"blue-collar\";\"yes\";0\r\n",
		want: []wantColumn{
			{"job", features.KindCategory, []string{"admin.", "blue-collar"}},
			{"y", features.KindFlag, []string{"false", "true"}},
			{"n", features.KindNumber, []string{"1", "0"}},
		}},
	{name: "tab", in: "a\tb\n1\tx y\n2\tz\n",
		want: []wantColumn{
			{"a", features.KindNumber, []string{"1", "2"}},
			{"b", features.KindCategory, []string{"x y", "z"}},
		}},
	{name: "quoted delimiters, quotes and newlines", in: "name,note\n\"Doe, Jane\",\"said \"\"hi\"\"; left\"\n\"Roe\",\"two\nlines\"\n",
		want: []wantColumn{
			{"name", features.KindCategory, []string{"Doe, Jane", "Roe"}},
			{"note", features.KindCategory, []string{`said "hi"; left`, "two\nlines"}},
		}},
	{name: "semicolon file with commas in values", in: "price;label\n1,5;a,b\n2,5;c,d\n",
		want: []wantColumn{
			{"price", features.KindCategory, []string{"1,5", "2,5"}},
			{"label", features.KindCategory, []string{"a,b", "c,d"}},
		}},
	{name: "missing markers", in: "x,s,f\n1,NA,true\nnull,a,N/A\nNaN,None,\n,b,false\n 4 ,n/a,#N/A\n",
		want: []wantColumn{
			{"x", features.KindNumber, []string{"1", na, na, na, "4"}},
			{"s", features.KindCategory, []string{na, "a", na, "b", na}},
			{"f", features.KindFlag, []string{"true", na, na, "false", na}},
		}},
	{name: "times", in: "d,t,z\n2024-03-01,2024-03-01 10:00:00,2024-03-01T10:00:00+02:00\n2023-12-31,2023-12-31 23:59:59.5,2024-03-01T08:00:00Z\n",
		want: []wantColumn{
			{"d", features.KindTime, []string{"2024-03-01T00:00:00Z", "2023-12-31T00:00:00Z"}},
			{"t", features.KindTime, []string{"2024-03-01T10:00:00Z", "2023-12-31T23:59:59Z"}},
			{"z", features.KindTime, []string{"2024-03-01T08:00:00Z", "2024-03-01T08:00:00Z"}},
		}},
	{name: "mixed kinds fall back to category", in: "a,b,c,d\n1,true,2024-01-01,Inf\nx,1,2024-01-01,NaN\n",
		want: []wantColumn{
			{"a", features.KindCategory, []string{"1", "x"}},
			{"b", features.KindCategory, []string{"true", "1"}},
			{"c", features.KindTime, []string{"2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z"}},
			{"d", features.KindNumber, []string{na, na}},
		}},
	{name: "inf and nan are missing numbers", in: "n,s\n1,Inf\nInf,x\n-Infinity,y\n2.5,z\nnan,w\n",
		want: []wantColumn{
			{"n", features.KindNumber, []string{"1", na, na, "2.5", na}},
			{"s", features.KindCategory, []string{"Inf", "x", "y", "z", "w"}},
		}},
	{name: "placeholders are missing", in: "a,b\nSelect,1\nWeb,-\nnone,N/A\nUnknown,3\n",
		want: []wantColumn{
			{"a", features.KindCategory, []string{na, "Web", na, na}},
			{"b", features.KindNumber, []string{"1", na, na, "3"}},
		}},
	{name: "leading zeros and hex stay categories", in: "zip,hex,n\n02134,0x1F,-0.5\n10001,0x20,1e3\n",
		want: []wantColumn{
			{"zip", features.KindCategory, []string{"02134", "10001"}},
			{"hex", features.KindCategory, []string{"0x1F", "0x20"}},
			{"n", features.KindNumber, []string{"-0.5", "1000"}},
		}},
	{name: "all missing column is category", in: "a,b\n1,\n2,NA\n",
		want: []wantColumn{
			{"a", features.KindNumber, []string{"1", "2"}},
			{"b", features.KindCategory, []string{na, na}},
		}},
	{name: "header only", in: "a,b\n",
		want: []wantColumn{{"a", features.KindCategory, nil}, {"b", features.KindCategory, nil}}},
	{name: "byte-order mark and spaces in header", in: "\xef\xbb\xbf id , n \n7,8\n",
		want: []wantColumn{{"id", features.KindNumber, []string{"7"}}, {"n", features.KindNumber, []string{"8"}}}},
	{name: "single column", in: "only\nx\ny\n",
		want: []wantColumn{{"only", features.KindCategory, []string{"x", "y"}}}},
	{name: "forced kinds", in: "id,score,flag\n1001,3,yes\n1002,4,no\n",
		opts: ReadOptions{Kinds: map[string]features.Kind{"id": features.KindCategory, "score": features.KindCategory}},
		want: []wantColumn{
			{"id", features.KindCategory, []string{"1001", "1002"}},
			{"score", features.KindCategory, []string{"3", "4"}},
			{"flag", features.KindFlag, []string{"true", "false"}},
		}},
	{name: "projection", in: "a,b,c\n1,x,true\n", opts: ReadOptions{Columns: []string{"c", "a"}},
		want: []wantColumn{{"a", features.KindNumber, []string{"1"}}, {"c", features.KindFlag, []string{"true"}}}},
	{name: "explicit delimiter", in: "a|b\n1|2\n", opts: ReadOptions{Comma: '|'},
		want: []wantColumn{{"a", features.KindNumber, []string{"1"}}, {"b", features.KindNumber, []string{"2"}}}},
}

func render(c *features.Column) []string {
	var out []string
	for i := range c.Len() {
		if v := c.Value(i); v.Missing() {
			out = append(out, na)
		} else {
			out = append(out, v.Text())
		}
	}
	return out
}

func TestReadCSV(t *testing.T) {
	for _, tt := range csvTests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ReadCSV(strings.NewReader(tt.in), "test.csv", tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Validate(); err != nil {
				t.Fatal(err)
			}
			if len(f.Columns) != len(tt.want) {
				t.Fatalf("got columns %q, want %d", columnNames(f), len(tt.want))
			}
			for j, w := range tt.want {
				c := f.Columns[j]
				if c.Name != w.name || c.Kind != w.kind {
					t.Errorf("column %d: got %q %s, want %q %s", j, c.Name, c.Kind, w.name, w.kind)
					continue
				}
				if got := render(c); !slices.Equal(got, w.values) {
					t.Errorf("column %q: got %q, want %q", c.Name, got, w.values)
				}
			}
		})
	}
}

var csvErrorTests = []struct {
	name    string
	in      string
	opts    ReadOptions
	wantErr error
	line    int
	row     int
	column  string
}{
	{name: "empty", in: "", wantErr: ErrEmpty},
	{name: "blank lines only", in: "\n\r\n  \n", wantErr: ErrEmpty},
	{name: "ragged row", in: "a,b\n1,2\n3\n4,5\n", wantErr: ErrRaggedRow, line: 3, row: 2},
	{name: "ragged row after quoted newline", in: "a,b\n\"x\ny\",2\n1,2,3\n", wantErr: ErrRaggedRow, line: 4, row: 2},
	{name: "duplicate header", in: "a,b,a\n1,2,3\n", wantErr: ErrDuplicateColumn, line: 1, column: "a"},
	{name: "empty header name", in: "a,,c\n1,2,3\n", wantErr: ErrNoHeader, line: 1},
	{name: "bare quote", in: "a,b\n1,x\"y\n", wantErr: csv.ErrBareQuote, line: 2, row: 1},
	{name: "unterminated quote", in: "a,b\n1,\"xy\n", wantErr: csv.ErrQuote, line: 2, row: 1},
	{name: "forced number with text", in: "a,b\n1,2\n3,x\n", opts: ReadOptions{Kinds: map[string]features.Kind{"b": features.KindNumber}},
		wantErr: ErrBadValue, line: 3, row: 2, column: "b"},
	{name: "forced time with number", in: "a\n2024-01-01\n17\n", opts: ReadOptions{Kinds: map[string]features.Kind{"a": features.KindTime}},
		wantErr: ErrBadValue, line: 3, row: 2, column: "a"},
	{name: "unknown projected column", in: "a,b\n1,2\n", opts: ReadOptions{Columns: []string{"c"}}, wantErr: ErrUnknownColumn, column: "c"},
}

func TestReadCSVErrors(t *testing.T) {
	for _, tt := range csvErrorTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadCSV(strings.NewReader(tt.in), "contacts.csv", tt.opts)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %T, want *ParseError", err)
			}
			if pe.File != "contacts.csv" || pe.Line != tt.line || pe.Row != tt.row || pe.Column != tt.column {
				t.Errorf("got file %q line %d row %d column %q, want contacts.csv line %d row %d column %q",
					pe.File, pe.Line, pe.Row, pe.Column, tt.line, tt.row, tt.column)
			}
			if !strings.HasPrefix(err.Error(), "dataset: contacts.csv") {
				t.Errorf("message %q does not start with the package and file", err)
			}
		})
	}
}

func TestParseErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  *ParseError
		want string
	}{
		{"line row column", &ParseError{File: "c.csv", Line: 5, Row: 4, Column: "age", Err: ErrBadValue},
			`dataset: c.csv: line 5 (row 4): column "age": value does not fit the column's kind`},
		{"row only", &ParseError{File: "c.parquet", Row: 9, Err: ErrCorrupt}, "dataset: c.parquet: row 9: corrupt file"},
		{"file only", &ParseError{File: "c.csv", Err: ErrEmpty}, "dataset: c.csv: empty file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDetectComma(t *testing.T) {
	tests := []struct {
		name     string
		sample   string
		complete bool
		want     rune
	}{
		{"comma", "a,b,c\n1,2,3\n", true, ','},
		{"semicolon beats decimal commas", "a;b\n1,5;2,5\n", true, ';'},
		{"tab", "a\tb\n1\t2\n", true, '\t'},
		{"quoted semicolons in a comma file", "a,b\n\"x;y;z\",1\n", true, ','},
		{"single column", "a\n1\n", true, ','},
		{"truncated last record ignored", "a;b\n1;2\n3", false, ';'},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := detectComma([]byte(tt.sample), tt.complete); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzReadCSV: reading never panics, and a frame it returns is consistent.
func FuzzReadCSV(f *testing.F) {
	for _, tt := range csvTests {
		f.Add([]byte(tt.in))
	}
	for _, tt := range csvErrorTests {
		f.Add([]byte(tt.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		frame, err := ReadCSV(bytes.NewReader(data), "fuzz.csv", ReadOptions{})
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %T %v, want *ParseError", err, err)
			}
			return
		}
		if err := frame.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestReadBankMarketing reads the real UCI bank-marketing file (semicolons, quoted strings, CRLF).
// Row count and kinds come from the data README and bank-additional-names.txt.
func TestReadBankMarketing(t *testing.T) {
	path := "/work/shared/data/uci-bank-marketing/bank-additional-full.csv"
	if _, err := os.Stat(path); err != nil {
		t.Skip("data file not present:", err)
	}
	f, err := ReadFile(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.Len(), 41188; got != want {
		t.Errorf("rows: got %d, want %d", got, want)
	}
	if got, want := len(f.Columns), 21; got != want {
		t.Errorf("columns: got %d, want %d", got, want)
	}
	kinds := map[string]features.Kind{
		"age": features.KindNumber, "job": features.KindCategory, "duration": features.KindNumber,
		"pdays": features.KindNumber, "euribor3m": features.KindNumber, "y": features.KindFlag,
	}
	for name, want := range kinds {
		c := f.Column(name)
		if c == nil {
			t.Errorf("column %q missing", name)
			continue
		}
		if c.Kind != want {
			t.Errorf("column %q: got kind %s, want %s", name, c.Kind, want)
		}
	}
	_, counts, err := Outcome{Column: "y"}.Labels(f)
	if err != nil {
		t.Fatal(err)
	}
	if want := (OutcomeCounts{Won: 4640, Lost: 36548}); !reflect.DeepEqual(counts, want) {
		t.Errorf("outcome: got %+v, want %+v", counts, want)
	}
}

func TestReadFileFormats(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		file    string
		content string
		wantErr error
	}{
		{"txt is csv", "a.txt", "a;b\n1;2\n", nil},
		{"upper-case extension", "a.CSV", "a,b\n1,2\n", nil},
		{"unknown extension", "a.json", "{}", ErrFormat},
		{"absent file", "", "", os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "absent.csv")
			if tt.file != "" {
				path = filepath.Join(dir, tt.file)
				if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := ReadFile(path, ReadOptions{})
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
		})
	}
}
