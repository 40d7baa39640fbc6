package dataset

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/leadscore/leadscore/features"
)

// referenceReadCSV is the two-pass reader that ReadCSV replaced, kept as the specification the
// single-pass parallel reader is checked against: same frames, same errors.
func referenceReadCSV(r io.ReadSeeker, name string, opts ReadOptions) (*features.Frame, error) {
	sample := make([]byte, sampleSize)
	n, err := io.ReadFull(r, sample)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, &ParseError{File: name, Err: err}
	}
	complete := n < sampleSize
	sample = sample[:n]
	start := int64(0)
	if bytes.HasPrefix(sample, []byte("\xef\xbb\xbf")) {
		start = 3
		sample = sample[3:]
	}
	if len(bytes.TrimSpace(sample)) == 0 {
		return nil, &ParseError{File: name, Err: ErrEmpty}
	}
	comma := opts.Comma
	if comma == 0 {
		comma = detectComma(sample, complete)
	}
	open := func() (*csv.Reader, error) {
		if _, err := r.Seek(start, io.SeekStart); err != nil {
			return nil, &ParseError{File: name, Err: err}
		}
		cr := csv.NewReader(bufio.NewReaderSize(r, 256<<10))
		cr.Comma = comma
		cr.FieldsPerRecord = -1
		cr.ReuseRecord = true
		return cr, nil
	}

	missing := features.NewMissingValues(opts.MissingValues)
	cr, err := open()
	if err != nil {
		return nil, err
	}
	header, err := readHeader(cr, name, textCheck)
	if err != nil {
		return nil, err
	}
	keep, err := selection(name, header, opts)
	if err != nil {
		return nil, err
	}
	// cands[j] holds the kinds column j may still have; seen[j] says it has a value.
	cands := make([]uint8, len(header))
	seen := make([]bool, len(header))
	infer := make([]bool, len(header))
	for j, h := range header {
		_, forced := opts.Kinds[h]
		infer[j] = keep[h] && !forced
		cands[j] = canFlag | canNumber | canTime
	}
	rows := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(name, rows+1, err)
		}
		rows++
		if len(rec) != len(header) {
			line, _ := cr.FieldPos(0)
			return nil, &ParseError{File: name, Line: line, Row: rows,
				Err: fmt.Errorf("%w: %d fields, header has %d", ErrRaggedRow, len(rec), len(header))}
		}
		for j, field := range rec {
			if !infer[j] || cands[j] == 0 {
				continue
			}
			if t := strings.TrimSpace(field); !missing.Has(t) {
				seen[j] = true
				cands[j] = narrow(cands[j], t)
			}
		}
	}

	var f features.Frame
	var idx []int
	for j, h := range header {
		if !keep[h] {
			continue
		}
		k, ok := opts.Kinds[h]
		if !ok {
			k = inferred(cands[j], seen[j])
		}
		f.Columns = append(f.Columns, newColumn(h, k, rows))
		idx = append(idx, j)
	}
	interns := make([]interner, len(f.Columns))

	if cr, err = open(); err != nil {
		return nil, err
	}
	if _, err := cr.Read(); err != nil {
		return nil, csvError(name, 0, err)
	}
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(name, row, err)
		}
		if row > rows || len(rec) != len(header) {
			return nil, &ParseError{File: name, Row: row, Err: fmt.Errorf("%w: file changed while reading", ErrCorrupt)}
		}
		for c, col := range f.Columns {
			field := rec[idx[c]]
			v, ok := parseAs(col.Kind, field, missing, &interns[c])
			if !ok {
				line, _ := cr.FieldPos(idx[c])
				return nil, &ParseError{File: name, Line: line, Row: row, Column: col.Name,
					Err: fmt.Errorf("%w: %q is not a %s", ErrBadValue, field, col.Kind)}
			}
			appendValue(col, v)
		}
	}
	if f.Len() != rows {
		return nil, &ParseError{File: name, Err: fmt.Errorf("%w: file changed while reading", ErrCorrupt)}
	}
	return &f, nil
}

// Candidate kinds of a CSV column while inferring; no bit left means category.
const (
	canFlag uint8 = 1 << iota
	canNumber
	canTime
)

// inferred chooses the kind of a column from its remaining candidates; seen says it has values.
func inferred(bits uint8, seen bool) features.Kind {
	switch {
	case !seen:
		return features.KindCategory
	case bits&canFlag != 0:
		return features.KindFlag
	case bits&canNumber != 0:
		return features.KindNumber
	case bits&canTime != 0:
		return features.KindTime
	}
	return features.KindCategory
}

// narrow drops the candidate kinds that the trimmed, non-missing text s does not fit.
func narrow(bits uint8, s string) uint8 {
	if bits&canFlag != 0 {
		if _, ok := features.FlagText(s); !ok {
			bits &^= canFlag
		}
	}
	if bits&canNumber != 0 {
		if _, ok := features.NumberText(s); !ok && !features.NonFiniteText(s) {
			bits &^= canNumber
		}
	}
	if bits&canTime != 0 {
		if _, ok := features.TimeText(s); !ok {
			bits &^= canTime
		}
	}
	return bits
}

// referenceCases are inputs where a block-wise reader could go wrong: records and quoted line
// breaks across block boundaries, columns that change kind late, errors in later blocks.
var referenceCases = []string{
	"a,b\n1,x\n2,y\n3,z\n4,w\n5,v\n6,u\n",
	"a,b\n1,2\n2,3\n3,4\nx,5\n6,yes\n",
	"a,b\ntrue,2024-01-01\nfalse,2024-01-02T10:00:00Z\nno,2024-02-30\nyes,2024-01-03 10:00:00.25\n",
	"a,b\n\"multi\nline\nvalue\",1\n\"x\"\"y\",2\n\"crlf\r\nin quotes\",3\r\n\"\",4\n,\n",
	"n,s\n1,\"a,b\"\n2,\"c\"\"d\"\"\"\n3,plain\n4,\"e\nf\",\n",
	"n,s\n1,a\n2,b\n3,c\n4,\"d\n",
	"n,s\n1,a\n2,b\n3,c\n4,d\"e\n5,f\n",
	"n,s\n1,a\n2,\"b\"x\n3,c\n",
	"n,s\n1,a\n2,b\n\n\r\n3,c\r\n4,d\r",
	"n,s\n1,a\n2,b\n3,c,d\n4,e\n",
	"n,s\n1,a\n2,b\n3,c\n007,d\n-0,e\n+5,f\n1e400,g\n",
	"t\n2024-01-01T00:00:00Z\n2024-13-01T00:00:00Z\n",
	"t\n2024-02-29T23:59:59Z\n2023-02-29T00:00:00Z\n",
	"t\n2024-02-29T23:59:60Z\n0000-01-01T00:00:00Z\n",
	"f\nTRUE\nYeS\nyeſ\nno\n",
	"x,y\n\u00a01\u00a0,NA\n 2 ,#N/A N/A\n3,-1.#QNAN\n",
	"a;b\n\"1;2\";3\n4;\"5\n6\"\n",
	"a\n\"x\"\r",
	"a,b\n\"x\"\"\n1,2\n",
}

// TestReadCSVMatchesReference checks that the block-wise reader gives the frames and errors of
// the two-pass reader it replaced, for every block size and number of goroutines.
func TestReadCSVMatchesReference(t *testing.T) {
	var inputs []string
	for _, tt := range csvTests {
		inputs = append(inputs, tt.in)
	}
	for _, tt := range csvErrorTests {
		inputs = append(inputs, tt.in)
	}
	inputs = append(inputs, referenceCases...)
	for i, in := range inputs {
		all := []ReadOptions{{}}
		// Force the first column to a number and the last to a flag, so that bad values show up.
		if f, err := referenceReadCSV(strings.NewReader(in), "x.csv", ReadOptions{}); err == nil && len(f.Columns) > 0 {
			all = append(all, ReadOptions{Kinds: map[string]features.Kind{
				f.Columns[0].Name: features.KindNumber, f.Columns[len(f.Columns)-1].Name: features.KindFlag}})
		}
		for _, opts := range all {
			for _, size := range []int{1, 3, 8, 64, blockSize} {
				for _, workers := range []int{1, 3} {
					name := fmt.Sprintf("input %d/forced=%t/size=%d/workers=%d", i, opts.Kinds != nil, size, workers)
					t.Run(name, func(t *testing.T) { mustMatchReference(t, []byte(in), opts, size, workers) })
				}
			}
		}
	}
}

// FuzzReadCSVMatchesReference: the block-wise reader agrees with the two-pass reader.
func FuzzReadCSVMatchesReference(f *testing.F) {
	for _, tt := range csvTests {
		f.Add([]byte(tt.in), uint8(1))
	}
	for _, tt := range csvErrorTests {
		f.Add([]byte(tt.in), uint8(5))
	}
	for _, in := range referenceCases {
		f.Add([]byte(in), uint8(7))
	}
	f.Fuzz(func(t *testing.T, data []byte, size uint8) {
		mustMatchReference(t, data, ReadOptions{}, int(size)+1, 2)
	})
}

func mustMatchReference(t *testing.T, data []byte, opts ReadOptions, size, workers int) {
	t.Helper()
	want, wantErr := referenceReadCSV(bytes.NewReader(data), "x.csv", opts)
	got, err := readCSV(bytes.NewReader(data), "x.csv", opts, size, workers)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("got error %v, want %v", err, wantErr)
	}
	if err != nil {
		var pe, wpe *ParseError
		if !errors.As(err, &pe) || !errors.As(wantErr, &wpe) {
			t.Fatalf("got %T, want %T", err, wantErr)
		}
		if err.Error() != wantErr.Error() || pe.Line != wpe.Line || pe.Row != wpe.Row || pe.Column != wpe.Column {
			t.Fatalf("got error %v (line %d row %d column %q), want %v (line %d row %d column %q)",
				err, pe.Line, pe.Row, pe.Column, wantErr, wpe.Line, wpe.Row, wpe.Column)
		}
		return
	}
	if len(got.Columns) != len(want.Columns) {
		t.Fatalf("got %d columns, want %d", len(got.Columns), len(want.Columns))
	}
	for j, w := range want.Columns {
		g := got.Columns[j]
		if g.Name != w.Name || g.Kind != w.Kind || !slices.Equal(g.Valid, w.Valid) || !slices.Equal(g.Str, w.Str) ||
			!slices.Equal(g.Bool, w.Bool) || len(g.Num) != len(w.Num) {
			t.Fatalf("column %d: got %+v, want %+v", j, g, w)
		}
		for i := range w.Num {
			if math.Float64bits(g.Num[i]) != math.Float64bits(w.Num[i]) {
				t.Fatalf("column %q row %d: got %v, want %v", w.Name, i, g.Num[i], w.Num[i])
			}
		}
	}
}
