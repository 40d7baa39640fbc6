package dataset

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// The text encodings ReadOptions.Encoding names.
const (
	// EncodingAuto reads UTF-8, and decodes a file that is not UTF-8 as Windows-1252 (the Latin-1
	// superset that Excel and most CRMs on Windows write), saying so in the Report. A file mixing
	// UTF-8 with other bytes is refused with the first bad value's row and column.
	EncodingAuto = ""
	// EncodingUTF8 refuses any text that is not UTF-8, naming its row and column.
	EncodingUTF8 = "utf-8"
	// EncodingWindows1252 decodes every text as Windows-1252 (also accepted as latin1, iso-8859-1
	// and cp1252: Windows-1252 agrees with Latin-1 on every printable character).
	EncodingWindows1252 = "windows-1252"
)

// ErrEncoding: text that is not UTF-8 where UTF-8 is required.
var ErrEncoding = errors.New("dataset: text is not UTF-8")

// encodingOf normalises a ReadOptions.Encoding name.
func encodingOf(name string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "auto":
		return EncodingAuto, nil
	case "utf-8", "utf8":
		return EncodingUTF8, nil
	case "windows-1252", "cp1252", "latin1", "latin-1", "iso-8859-1", "iso8859-1":
		return EncodingWindows1252, nil
	}
	return "", fmt.Errorf("dataset: unknown encoding %q (want utf-8, windows-1252 or latin1)", name)
}

// Report says what reading did to the data beyond parsing it, so that a caller can show it. A reader
// adds to the Report its ReadOptions point to.
type Report struct {
	// Files are the files read, in order.
	Files []string
	// Decoded maps a file whose text was not UTF-8 to the encoding it was decoded from.
	Decoded map[string]string
	// NonFinite counts, per number column, the values spelling or holding inf or nan that were read
	// as missing.
	NonFinite map[string]int
}

func (r *Report) decoded(file, encoding string) {
	if r == nil {
		return
	}
	if r.Decoded == nil {
		r.Decoded = make(map[string]string)
	}
	r.Decoded[file] = encoding
}

func (r *Report) nonFinite(column string, n int) {
	if r == nil || n == 0 {
		return
	}
	if r.NonFinite == nil {
		r.NonFinite = make(map[string]int)
	}
	r.NonFinite[column] += n
}

// decode1252 returns b decoded from Windows-1252.
func decode1252(b []byte) string {
	var s strings.Builder
	s.Grow(len(b) + len(b)/4)
	for _, c := range b {
		if c < utf8.RuneSelf {
			s.WriteByte(c)
		} else {
			s.WriteRune(charmap.Windows1252.DecodeByte(c))
		}
	}
	return s.String()
}

// isASCII reports whether b holds only ASCII bytes.
func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// utf8Stats reports whether data holds bytes that are not UTF-8, and whether it holds valid UTF-8
// characters of more than one byte.
func utf8Stats(data []byte) (invalid, multibyte bool) {
	if isASCII(data) {
		return false, false
	}
	if utf8.Valid(data) {
		return false, true
	}
	for i := 0; i < len(data); {
		if data[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			invalid = true
		} else {
			multibyte = true
		}
		if invalid && multibyte {
			break
		}
		i += size
	}
	return invalid, multibyte
}

// Transcode rewrites the text file at path, UTF-8, in the named encoding (EncodingWindows1252; see
// encodingOf for its other names), atomically. A character the encoding cannot hold is an error naming
// it, and the file is left as it was. It makes test exports in the encodings real CRMs write.
func Transcode(path, encoding string) error {
	enc, err := encodingOf(encoding)
	if err != nil {
		return &ParseError{File: path, Err: err}
	}
	if enc != EncodingWindows1252 {
		return &ParseError{File: path, Err: fmt.Errorf("dataset: cannot write %q text", encoding)}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fileError(path, err)
	}
	out, err := charmap.Windows1252.NewEncoder().Bytes(data)
	if err != nil {
		return &ParseError{File: path, Err: fmt.Errorf("dataset: text does not fit %s: %w", enc, err)}
	}
	return WriteAtomic(path, func(w io.Writer) error {
		if _, err := w.Write(out); err != nil {
			return fileError(path, err)
		}
		return nil
	})
}
