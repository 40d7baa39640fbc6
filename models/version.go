package models

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Errors about stored versions. Problems with one version come as a *VersionError wrapping one of these.
var (
	ErrNotFound    = errors.New("models: not found")
	ErrInvalidName = errors.New("models: invalid name")
	ErrCorrupt     = errors.New("models: corrupt")
)

// VersionError says which model version, and which file in it, a problem concerns.
type VersionError struct {
	Name    string
	Version int
	File    string // "" when the problem is not about one file
	Err     error
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("models: model %q version %d: %s", e.Name, e.Version, e.Reason())
}

func (e *VersionError) Unwrap() error { return e.Err }

// Reason is the problem without the model and version, as listings show it.
func (e *VersionError) Reason() string {
	msg := strings.TrimPrefix(e.Err.Error(), "models: ")
	msg = strings.TrimPrefix(msg, "store: ")
	if e.File == "" {
		return msg
	}
	return e.File + ": " + msg
}

// VersionInfo is one stored version of a model and whether it can be served.
type VersionInfo struct {
	Version int    `json:"version"`
	Valid   bool   `json:"valid"`
	Reason  string `json:"reason,omitempty"` // why it is invalid
	// Err is the error behind Reason (a *VersionError), nil when valid.
	Err error `json:"-"`
}

// ValidName reports whether name can name a model: 1 to 64 characters from [a-zA-Z0-9._-], starting
// with a letter or digit, without "..". Names are directory names, so nothing else gets through.
func ValidName(name string) bool {
	if len(name) == 0 || len(name) > 64 || strings.Contains(name, "..") {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case (c == '.' || c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// ValidLabel reports whether label can name a label: 1 to 64 characters from [a-z0-9_-].
func ValidLabel(label string) bool {
	if len(label) == 0 || len(label) > 64 {
		return false
	}
	for i := 0; i < len(label); i++ {
		c := label[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// CheckName returns ErrInvalidName, with the rule, when name cannot name a model.
func CheckName(name string) error {
	if !ValidName(name) {
		return fmt.Errorf("%w: model name %q (want 1-64 of a-z A-Z 0-9 . _ -, starting with a letter or digit)", ErrInvalidName, name)
	}
	return nil
}

// DecodeArtifact decodes and validates a stored artifact (model.json). The format is read first, so
// a file from a newer leadscore is reported as such rather than as whatever of it fails to decode.
// Errors wrap ErrCorrupt, ErrUnsupportedFormat or ErrInvalidArtifact.
func DecodeArtifact(data []byte) (*Artifact, error) {
	var head struct {
		Format int `json:"format"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%w: does not decode: %v", ErrCorrupt, err)
	}
	if head.Format > FormatVersion {
		return nil, fmt.Errorf("%w: format %d is newer than this leadscore reads (%d); upgrade leadscore", ErrUnsupportedFormat, head.Format, FormatVersion)
	}
	a := &Artifact{}
	if err := json.Unmarshal(data, a); err != nil {
		return nil, fmt.Errorf("%w: does not decode: %v", ErrCorrupt, err)
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return a, nil
}

// EncodeArtifact encodes a as stored under name (model.json), without modifying a: the outer Name
// field is shallower than the embedded artifact's, so encoding/json writes it instead.
func EncodeArtifact(name string, a *Artifact) ([]byte, error) {
	data, err := json.Marshal(struct {
		*Artifact
		Name string `json:"name"`
	}{a, name})
	if err != nil {
		return nil, fmt.Errorf("models: encode artifact %q: %w", name, err)
	}
	return append(data, '\n'), nil
}
