package store

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/leadscore/leadscore/models"
)

// parseManifest reads sha256sum output: "<64 hex>  <file>" or "<64 hex> *<file>" per line.
// Files must be plain names inside the version directory, each listed once.
func parseManifest(data []byte) (map[string][sha256.Size]byte, error) {
	sums := make(map[string][sha256.Size]byte)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimRight(sc.Text(), "\r")
		if text == "" {
			continue
		}
		if len(text) < 2*sha256.Size+3 || (text[64:66] != "  " && text[64:66] != " *") {
			return nil, fmt.Errorf("%w: line %d is not \"sha256  file\"", models.ErrCorrupt, line)
		}
		var sum [sha256.Size]byte
		if _, err := hex.Decode(sum[:], []byte(text[:64])); err != nil {
			return nil, fmt.Errorf("%w: line %d: bad checksum: %v", models.ErrCorrupt, line, err)
		}
		file := text[66:]
		if file == ManifestFile || file == "." || file == ".." || strings.ContainsAny(file, `/\`) {
			return nil, fmt.Errorf("%w: line %d names %q, not a file of the version", models.ErrCorrupt, line, file)
		}
		if _, dup := sums[file]; dup {
			return nil, fmt.Errorf("%w: line %d lists %s twice", models.ErrCorrupt, line, file)
		}
		sums[file] = sum
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", models.ErrCorrupt, err)
	}
	return sums, nil
}

// formatManifest writes the MANIFEST of files, sorted by name.
func formatManifest(files map[string][]byte) []byte {
	var b []byte
	for _, name := range slices.Sorted(maps.Keys(files)) {
		b = fmt.Appendf(b, "%x  %s\n", sha256.Sum256(files[name]), name)
	}
	return b
}
