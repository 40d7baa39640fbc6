package serve

import (
	"math"
	"sync"
	"unicode/utf8"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/leadscore/leadscore/internal/memo"
	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

// newRequestPool returns an empty requestPool.
func newRequestPool() *requestPool {
	return &requestPool{names: memo.NewTexts(maxInterned, maxInternedLen)}
}

// requestPool decodes gRPC Predict requests into pooled memory: the contact, its map and the
// messages of its values are those of an earlier call, given back once the call is answered (see
// Server.served), and property, model and label names are interned, so that a request of the
// properties seen before costs allocations only for its texts. A request decodes this way only when
// it is small (at most maxPooledBytes, maxPooledProperties properties), so that memory whose call
// failed before it could be given back (see handover) holds little, and has the plain shape clients
// send: the fields of PredictRequest, Contact, Value and Timestamp, each message field at most once.
// Anything else (unknown fields, a message field sent twice, whose parts proto merges, invalid UTF-8,
// bad wire data) is left to the server's codec (codec.Codec), which keeps or refuses it as it always
// has; tests hold the two to the same result.
type requestPool struct {
	free  sync.Pool
	names *memo.Texts // property, model and label names
	// pending holds the memory of requests being served, by the request's address.
	pending handover[pooledRequest]
}

// pooledRequest is the memory a request decodes into.
type pooledRequest struct {
	// req is the address of the request decoded into it: a number, which does not keep the request
	// alive (see handover).
	req     uintptr
	contact leadscorev1.Contact
	asOf    timestamppb.Timestamp
	vals    slab[leadscorev1.Value]
	strs    slab[leadscorev1.Value_StringValue]
	nums    slab[leadscorev1.Value_NumberValue]
	flags   slab[leadscorev1.Value_BoolValue]
	times   slab[leadscorev1.Value_TimestampValue]
	stamps  slab[timestamppb.Timestamp]
}

// The largest request decoded into pooled memory: maxPooledBytes of wire data and maxPooledProperties
// properties (about 60 times the bench request's size; a contact of the few dozen properties a model
// reads is far below both).
const (
	maxPooledBytes      = 32 << 10
	maxPooledProperties = 128
)

// Bounds of the interned names: up to maxInterned, each at most maxInternedLen bytes long; the first
// seen are kept.
const (
	maxInterned    = 1024
	maxInternedLen = 64
)

// slab hands out zeroed T from one array, reused from call to call; beyond the array, from new
// allocations, and the next call's array has room for them all (up to maxPooledProperties).
type slab[T any] struct {
	items []T
	used  int
}

func (s *slab[T]) next() *T {
	var zero T
	if s.used < len(s.items) {
		p := &s.items[s.used]
		s.used++
		*p = zero
		return p
	}
	s.used++
	return new(T)
}

// reset makes the slab's items free again, with room for as many as were used.
func (s *slab[T]) reset() {
	if s.used > len(s.items) && s.used <= maxPooledProperties {
		s.items = make([]T, s.used)
	}
	clear(s.items) // the pool must not keep the contact's strings alive
	s.used = 0
}

func (p *requestPool) get() *pooledRequest {
	if pr, _ := p.free.Get().(*pooledRequest); pr != nil {
		return pr
	}
	return new(pooledRequest)
}

// put empties pr and keeps it for get; nothing may refer to it.
func (p *requestPool) put(pr *pooledRequest) {
	props := pr.contact.Properties
	if len(props) > maxPooledProperties {
		props = nil
	}
	clear(props)
	pr.req, pr.contact, pr.asOf = 0, leadscorev1.Contact{Properties: props}, timestamppb.Timestamp{}
	pr.vals.reset()
	pr.strs.reset()
	pr.nums.reset()
	pr.flags.reset()
	pr.times.reset()
	pr.stamps.reset()
	p.free.Put(pr)
}

// decode decodes b into m, which must be empty, from pooled memory, and reports whether it could;
// when it could not, m is empty again and codec.Codec is to decode it.
func (p *requestPool) decode(b []byte, m *leadscorev1.PredictRequest) bool {
	if len(b) > maxPooledBytes {
		return false
	}
	pr := p.get()
	if !pr.decodeRequest(p, b, m) {
		*m = leadscorev1.PredictRequest{}
		p.put(pr)
		return false
	}
	pr.req = uintptr(unsafe.Pointer(m))
	p.pending.hand(unsafe.Pointer(m), pr)
	return true
}

// release takes back the memory of request r, if r was decoded into pooled memory; nothing may
// refer to r's contact afterwards.
func (p *requestPool) release(r *leadscorev1.PredictRequest) {
	if pr := p.pending.take(unsafe.Pointer(r), func(pr *pooledRequest) bool { return pr.req == uintptr(unsafe.Pointer(r)) }); pr != nil {
		p.put(pr)
	}
}

// fields reads a message's fields one after the other: next the tag, then the value of its wire
// type. Each read reports whether the bytes held what was asked, as protobuf reads it.
type fields struct {
	b   []byte
	bad bool // a read failed
}

// next reads the next field's tag; false at the end or on a bad tag.
func (f *fields) next() (protowire.Number, protowire.Type, bool) {
	if f.bad || len(f.b) == 0 {
		return 0, 0, false
	}
	num, typ, n := protowire.ConsumeTag(f.b)
	return num, typ, f.advance(n)
}

// advance moves past the n bytes a read took, or notes that it failed (n < 0).
func (f *fields) advance(n int) bool {
	if n < 0 {
		f.bad = true
		return false
	}
	f.b = f.b[n:]
	return true
}

// each calls read with every field's tag, until read returns false; read reads the field's value.
// It reports whether every field was read: nothing is left, and nothing was bad.
func (f *fields) each(read func(protowire.Number, protowire.Type) bool) bool {
	for {
		num, typ, more := f.next()
		if !more {
			return !f.bad && len(f.b) == 0
		}
		if !read(num, typ) {
			return false
		}
	}
}

func (f *fields) bytes() ([]byte, bool) {
	b, n := protowire.ConsumeBytes(f.b)
	return b, f.advance(n)
}

// text reads bytes that must be valid UTF-8, as protobuf requires of a proto3 string.
func (f *fields) text() ([]byte, bool) {
	b, ok := f.bytes()
	return b, ok && utf8.Valid(b)
}

func (f *fields) varint() (uint64, bool) {
	x, n := protowire.ConsumeVarint(f.b)
	return x, f.advance(n)
}

func (f *fields) fixed64() (uint64, bool) {
	x, n := protowire.ConsumeFixed64(f.b)
	return x, f.advance(n)
}

// decodeRequest decodes a PredictRequest (see requestPool for what it declines).
func (pr *pooledRequest) decodeRequest(p *requestPool, b []byte, m *leadscorev1.PredictRequest) bool {
	var contact, asOf bool
	f := fields{b: b}
	return f.each(func(num protowire.Number, typ protowire.Type) bool {
		switch {
		case num == 1 && typ == protowire.BytesType:
			s, ok := f.text()
			m.Model = p.names.String(s)
			return ok
		case num == 2 && typ == protowire.VarintType:
			x, ok := f.varint()
			m.Version = int64(x)
			return ok
		case num == 3 && typ == protowire.BytesType:
			s, ok := f.text()
			m.Label = p.names.String(s)
			return ok
		case num == 4 && typ == protowire.BytesType && !contact:
			s, ok := f.bytes()
			contact, m.Contact = true, &pr.contact
			return ok && pr.decodeContact(p, s)
		case num == 5 && typ == protowire.BytesType && !asOf:
			s, ok := f.bytes()
			asOf, m.AsOf = true, &pr.asOf
			return ok && decodeTimestamp(s, &pr.asOf)
		case num == 6 && typ == protowire.VarintType:
			x, ok := f.varint()
			m.OmitRuleHits = x != 0
			return ok
		}
		return false
	})
}

func (pr *pooledRequest) decodeContact(p *requestPool, b []byte) bool {
	f := fields{b: b}
	return f.each(func(num protowire.Number, typ protowire.Type) bool {
		switch {
		case num == 1 && typ == protowire.BytesType:
			s, ok := f.text()
			pr.contact.Id = string(s)
			return ok
		case num == 2 && typ == protowire.BytesType:
			s, ok := f.bytes()
			return ok && pr.decodeEntry(p, s)
		}
		return false
	})
}

// decodeEntry decodes one entry of a contact's properties into the contact's map: as proto does, a
// missing key is "", a missing value an empty one, and a later entry of the same key replaces an
// earlier one.
func (pr *pooledRequest) decodeEntry(p *requestPool, b []byte) bool {
	var key []byte
	var val *leadscorev1.Value
	f := fields{b: b}
	ok := f.each(func(num protowire.Number, typ protowire.Type) bool {
		switch {
		case num == 1 && typ == protowire.BytesType:
			var ok bool
			key, ok = f.text()
			return ok
		case num == 2 && typ == protowire.BytesType && val == nil:
			s, ok := f.bytes()
			if ok {
				val = pr.decodeValue(p, s)
			}
			return val != nil
		}
		return false
	})
	if !ok {
		return false
	}
	if val == nil {
		val = pr.vals.next()
	}
	if pr.contact.Properties == nil {
		pr.contact.Properties = make(map[string]*leadscorev1.Value, 32)
	}
	pr.contact.Properties[p.names.String(key)] = val
	return len(pr.contact.Properties) <= maxPooledProperties
}

// decodeValue decodes a Value, nil when it declines: as proto does, of the kinds sent the last is
// kept.
func (pr *pooledRequest) decodeValue(p *requestPool, b []byte) *leadscorev1.Value {
	v := pr.vals.next()
	f := fields{b: b}
	ok := f.each(func(num protowire.Number, typ protowire.Type) bool {
		switch {
		case num == 1 && typ == protowire.BytesType:
			s, ok := f.text()
			k := pr.strs.next()
			k.StringValue, v.Kind = string(s), k
			return ok
		case num == 2 && typ == protowire.Fixed64Type:
			x, ok := f.fixed64()
			k := pr.nums.next()
			k.NumberValue, v.Kind = math.Float64frombits(x), k
			return ok
		case num == 3 && typ == protowire.VarintType:
			x, ok := f.varint()
			k := pr.flags.next()
			k.BoolValue, v.Kind = x != 0, k
			return ok
		case num == 4 && typ == protowire.BytesType:
			if _, twice := v.Kind.(*leadscorev1.Value_TimestampValue); twice {
				return false // proto merges the two
			}
			s, ok := f.bytes()
			ts := pr.stamps.next()
			k := pr.times.next()
			k.TimestampValue, v.Kind = ts, k
			return ok && decodeTimestamp(s, ts)
		}
		return false
	})
	if !ok {
		return nil
	}
	return v
}

// decodeTimestamp decodes a google.protobuf.Timestamp into ts, which must be empty.
func decodeTimestamp(b []byte, ts *timestamppb.Timestamp) bool {
	f := fields{b: b}
	return f.each(func(num protowire.Number, typ protowire.Type) bool {
		if typ != protowire.VarintType || num != 1 && num != 2 {
			return false
		}
		x, ok := f.varint()
		if num == 1 {
			ts.Seconds = int64(x)
		} else {
			ts.Nanos = int32(x)
		}
		return ok
	})
}
