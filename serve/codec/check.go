package codec

import (
	"sync"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// wellFormed reports whether b is an encoded message of type md that the generated code decodes
// exactly as protobuf does, so that it needs no second opinion. It is stricter than it has to be, never
// more lenient: false only costs a decode by protobuf. It is true when every tag is written in the
// fewest bytes (protobuf writes an unknown field's tag again so; the generated code keeps it as it
// came), every tag and varint is one protobuf reads (protowire's rules), every length fits, there are
// no groups (wire types 3 and 4; no message of ours has one, and protobuf bounds their depth),
// messages nest at most maxDepth deep, every string field holds valid UTF-8, every map entry has its
// key and value in their own wire types, with exactly one value when the value is a message, and no
// well-known type (google.protobuf.*) holds an unknown field: vtprotobuf decodes those with its own
// code (types/known), which drops them.
func wellFormed(b []byte, md protoreflect.MessageDescriptor) bool {
	return shapeOf(md).check(b, 0)
}

// maxDepth bounds the nesting of messages that wellFormed follows (protobuf's own limit is 10000):
// ours nest at most 5 deep.
const maxDepth = 64

// shape is what wellFormed needs to know of a message type.
type shape struct {
	near []field                    // fields by number, below nearFields
	far  map[protowire.Number]field // the other fields
	// A map entry: the wire types of its key (1) and value (2), and whether the value is a message.
	entry              bool
	keyWire, valueWire protowire.Type
	messageValue       bool
	// wellKnown: a google.protobuf message, whose unknown fields vtprotobuf drops.
	wellKnown bool
	// toWellKnown are the message fields (singular, repeated or map) through which a well-known
	// message can be reached; nil when none can.
	toWellKnown []protoreflect.FieldDescriptor
}

const nearFields = 64

type field struct {
	kind fieldKind
	sub  *shape // of a message field, or a map field's entry
}

type fieldKind uint8

const (
	unknownField fieldKind = iota // not in the message's descriptor
	scalarField                   // a kind whose bytes protobuf and the generated code read alike
	stringField                   // must hold valid UTF-8
	messageField                  // a message, or a map entry
)

func (s *shape) field(num protowire.Number) field {
	if int(num) < len(s.near) {
		return s.near[num]
	}
	return s.far[num]
}

// shapes holds the shape of every message type seen, by full name; never deleted from: a program has
// a fixed set of message types.
var shapes sync.Map // protoreflect.FullName -> *shape

func shapeOf(md protoreflect.MessageDescriptor) *shape {
	if s, ok := shapes.Load(md.FullName()); ok {
		return s.(*shape)
	}
	s := buildShape(md, map[protoreflect.FullName]*shape{})
	actual, _ := shapes.LoadOrStore(md.FullName(), s)
	return actual.(*shape)
}

// buildShape derives the shape of md; building holds the shapes under construction, for recursive types.
func buildShape(md protoreflect.MessageDescriptor, building map[protoreflect.FullName]*shape) *shape {
	if s, ok := building[md.FullName()]; ok {
		return s
	}
	s := &shape{near: make([]field, nearFields), wellKnown: md.ParentFile().Package() == "google.protobuf"}
	building[md.FullName()] = s
	if md.IsMapEntry() {
		key, value := md.Fields().ByNumber(1), md.Fields().ByNumber(2)
		s.entry = true
		s.keyWire, s.valueWire = wireType(key.Kind()), wireType(value.Kind())
		s.messageValue = value.Kind() == protoreflect.MessageKind
	}
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		f := field{kind: scalarField}
		switch fd.Kind() {
		case protoreflect.StringKind:
			f.kind = stringField
		case protoreflect.MessageKind:
			f = field{kind: messageField, sub: buildShape(fd.Message(), building)}
			if reachesWellKnown(fd.Message(), map[protoreflect.FullName]bool{}) {
				s.toWellKnown = append(s.toWellKnown, fd)
			}
		}
		if fd.Number() < nearFields {
			s.near[fd.Number()] = f
			continue
		}
		if s.far == nil {
			s.far = map[protowire.Number]field{}
		}
		s.far[fd.Number()] = f
	}
	return s
}

// reachesWellKnown reports whether md is, or holds through message fields, a google.protobuf message;
// seen holds the types already followed.
func reachesWellKnown(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) bool {
	if md.ParentFile().Package() == "google.protobuf" {
		return true
	}
	if seen[md.FullName()] {
		return false
	}
	seen[md.FullName()] = true
	fields := md.Fields()
	for i := range fields.Len() {
		if fd := fields.Get(i); fd.Message() != nil && reachesWellKnown(fd.Message(), seen) {
			return true
		}
	}
	return false
}

// unknownInWellKnown reports whether m, of shape s, holds a well-known message with unknown fields,
// which vtprotobuf would not marshal.
func (s *shape) unknownInWellKnown(m protoreflect.Message) bool {
	if s.wellKnown {
		return len(m.GetUnknown()) > 0
	}
	for _, fd := range s.toWellKnown {
		if !m.Has(fd) {
			continue
		}
		sub := s.field(fd.Number()).sub
		v := m.Get(fd)
		switch {
		case fd.IsMap():
			// The entry's shape has the value's message as its field 2.
			vs := sub.field(2).sub
			found := false
			v.Map().Range(func(_ protoreflect.MapKey, v protoreflect.Value) bool {
				found = vs.unknownInWellKnown(v.Message())
				return !found
			})
			if found {
				return true
			}
		case fd.IsList():
			for i, l := 0, v.List(); i < l.Len(); i++ {
				if sub.unknownInWellKnown(l.Get(i).Message()) {
					return true
				}
			}
		default:
			if sub.unknownInWellKnown(v.Message()) {
				return true
			}
		}
	}
	return false
}

// wireType is the wire type of a single value of kind k (groups: StartGroupType).
func wireType(k protoreflect.Kind) protowire.Type {
	switch k {
	case protoreflect.StringKind, protoreflect.BytesKind, protoreflect.MessageKind:
		return protowire.BytesType
	case protoreflect.DoubleKind, protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind:
		return protowire.Fixed64Type
	case protoreflect.FloatKind, protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind:
		return protowire.Fixed32Type
	case protoreflect.GroupKind:
		return protowire.StartGroupType
	default:
		return protowire.VarintType
	}
}

// check reports whether b, a message of shape s nested depth deep, is well formed (see wellFormed).
func (s *shape) check(b []byte, depth int) bool {
	if depth > maxDepth {
		return false
	}
	values := 0 // of a map entry
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || !num.IsValid() || n != protowire.SizeTag(num) {
			return false
		}
		b = b[n:]
		if s.wellKnown && s.field(num).kind == unknownField {
			return false
		}
		if s.entry && (num == 1 && typ != s.keyWire || num == 2 && typ != s.valueWire) {
			return false
		}
		switch typ {
		case protowire.VarintType, protowire.Fixed32Type, protowire.Fixed64Type:
			n = protowire.ConsumeFieldValue(num, typ, b)
		case protowire.BytesType:
			var v []byte
			v, n = protowire.ConsumeBytes(b)
			if n < 0 {
				return false
			}
			switch f := s.field(num); f.kind {
			case stringField:
				if !utf8.Valid(v) {
					return false
				}
			case messageField:
				if !f.sub.check(v, depth+1) {
					return false
				}
			}
		default: // groups and the reserved wire types 6 and 7
			return false
		}
		if n < 0 {
			return false
		}
		b = b[n:]
		if s.entry && num == 2 {
			values++
		}
	}
	return !s.entry || !s.messageValue || values == 1
}
