package memlimit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadLimit(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name, content string
		want          int64
		ok            bool
	}{
		{"v2 limit", "536870912\n", 512 << 20, true},
		{"v2 no limit", "max\n", 0, false},
		{"v1 no limit", "9223372036854771712\n", 0, false},
		{"garbage", "lots", 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name)
			if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			got, ok := readLimit(p)
			if got != tt.want || ok != tt.ok {
				t.Errorf("readLimit(%q) = %d, %v; want %d, %v", tt.content, got, ok, tt.want, tt.ok)
			}
		})
	}
	if _, ok := readLimit(filepath.Join(dir, "absent")); ok {
		t.Error("a missing file reads as a limit")
	}
	if got := Default(1000 << 20); got != 900<<20 {
		t.Errorf("Default(1000 MiB) = %d, want 900 MiB", got)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"512MiB": 512 << 20, "2GiB": 2 << 30, "2g": 2 << 30, "300M": 300 << 20, "1.5GiB": 3 << 29,
		"500MB": 500e6, "1073741824": 1 << 30, "64KiB": 64 << 10,
	} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"lots", "-1GiB", "0", "MiB", "1e30GiB"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q): no error", bad)
		}
	}
	for in, want := range map[string]int64{"off": 0, "none": 0, "0": 0, "3GiB": 3 << 30} {
		if got, err := Resolve(in); err != nil || got != want {
			t.Errorf("Resolve(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := Resolve("lots"); err == nil || !strings.Contains(err.Error(), "auto or off") {
		t.Errorf("Resolve(lots) = %v, want an error naming auto and off", err)
	}
	t.Setenv("GOMEMLIMIT", "1GiB")
	if got, err := Resolve("auto"); got != 0 || err != nil {
		t.Errorf("Resolve(auto) with GOMEMLIMIT set = %d, %v; want 0 (the runtime's)", got, err)
	}
}
