package features

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// ErrJSON: a contact given as JSON is not a flat object of properties.
var ErrJSON = errors.New("features: contact is not a JSON object of properties")

// ValueFromJSON converts one property value decoded by encoding/json (with or without UseNumber):
// null is missing, a string stays text (Parse reads it as its column's kind later, exactly as a CSV
// field), a number becomes a number and a boolean a flag. A number that does not fit a float64 is
// ErrNotFinite; an object or array is ErrWrongType.
func ValueFromJSON(v any) (Value, error) {
	switch x := v.(type) {
	case nil:
		return Value{}, nil
	case string:
		return String(x), nil
	case bool:
		return Flag(x), nil
	case float64:
		return Number(x), nil
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return Value{}, ErrNotFinite
		}
		return Number(f), nil
	}
	return Value{}, fmt.Errorf("%w: want a string, number, boolean or null", ErrWrongType)
}

// ContactFromJSON reads a contact written as one flat JSON object of properties, as the command line
// and the REST front take it: {"contact_id":"C1","industry":"Software","employees":120}. Values
// follow ValueFromJSON. The contact's ID is its "contact_id" property, else its "id" property, when
// that is a string or a number. A value that cannot be read is a *PropertyError (Row -1); anything but
// one object wraps ErrJSON.
func ContactFromJSON(raw []byte) (Contact, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return Contact{}, fmt.Errorf("%w: %w", ErrJSON, err)
	}
	if obj == nil {
		return Contact{}, fmt.Errorf("%w, not null", ErrJSON)
	}
	if dec.More() {
		return Contact{}, fmt.Errorf("%w: found more after the first object", ErrJSON)
	}
	return ContactFromMap(obj)
}

// ContactFromMap is ContactFromJSON for an object already decoded into a map.
func ContactFromMap(obj map[string]any) (Contact, error) {
	c := Contact{Props: make(map[string]Value, len(obj))}
	for name, raw := range obj {
		v, err := ValueFromJSON(raw)
		if err != nil {
			return Contact{}, &PropertyError{Property: name, Row: -1, Value: fmt.Sprint(raw), Err: err}
		}
		if !v.Missing() {
			c.Props[name] = v
		}
	}
	for _, name := range []string{"contact_id", "id"} {
		if v, ok := c.Props[name]; ok && (v.Kind == KindCategory || v.Kind == KindNumber) {
			c.ID = v.Text()
			break
		}
	}
	return c, nil
}
