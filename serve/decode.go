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
	return &requestPool{names: memo.NewTexts(maxInterned, maxInternedLen), texts: memo.NewTexts(maxInterned, maxInternedLen)}
}

// requestPool decodes gRPC Predict requests into pooled memory: the contact, its map and the
// messages of its values are those of an earlier call, given back once the call's handler has
// returned (see serveUnary), and property names, model names and short texts are interned, so that a
// request of the properties seen before costs no allocation but its contact id. A request decodes
// this way only when it has the plain shape clients send: the fields of PredictRequest, Contact,
// Value and Timestamp, each message field at most once. Anything else (unknown fields, a message
// field sent twice, whose parts proto merges, invalid UTF-8, bad wire data) is left to the stock
// decoder, which keeps or refuses it as it always has; tests hold the two to the same result.
type requestPool struct {
	free  sync.Pool
	names *memo.Texts // property, model and label names
	texts *memo.Texts // string values
	// pending holds the memory of requests being served, by the request's address.
	pending handover[pooledRequest]
}

// pooledRequest is the memory a request decodes into.
type pooledRequest struct {
	req     *leadscorev1.PredictRequest // the request decoded into it
	contact leadscorev1.Contact
	asOf    timestamppb.Timestamp
	vals    slab[leadscorev1.Value]
	strs    slab[leadscorev1.Value_StringValue]
	nums    slab[leadscorev1.Value_NumberValue]
	flags   slab[leadscorev1.Value_BoolValue]
	times   slab[leadscorev1.Value_TimestampValue]
	stamps  slab[timestamppb.Timestamp]
}

// Bounds of what pooled memory keeps for the next request, so that one enormous contact does not
// pin its memory: a map of up to maxPooledProperties entries and as many values of each kind.
const maxPooledProperties = 128

// Bounds of the interned strings: up to maxInterned names and as many texts, each at most
// maxInternedLen bytes long; the first seen are kept.
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
	pr.req, pr.contact, pr.asOf = nil, leadscorev1.Contact{Properties: props}, timestamppb.Timestamp{}
	pr.vals.reset()
	pr.strs.reset()
	pr.nums.reset()
	pr.flags.reset()
	pr.times.reset()
	pr.stamps.reset()
	p.free.Put(pr)
}

// decode decodes b into m, which must be empty, from pooled memory, and reports whether it could;
// when it could not, m is empty again and the stock decoder is to be used.
func (p *requestPool) decode(b []byte, m *leadscorev1.PredictRequest) bool {
	pr := p.get()
	if !pr.decodeRequest(p, b, m) {
		*m = leadscorev1.PredictRequest{}
		p.put(pr)
		return false
	}
	pr.req = m
	p.pending.hand(unsafe.Pointer(m), pr)
	return true
}

// release takes back the memory of request r, if r was decoded into pooled memory; nothing may
// refer to r's contact afterwards.
func (p *requestPool) release(r *leadscorev1.PredictRequest) {
	if pr := p.pending.take(unsafe.Pointer(r), func(pr *pooledRequest) bool { return pr.req == r }); pr != nil {
		p.put(pr)
	}
}

// decodeRequest decodes a PredictRequest (see requestPool for what it declines).
func (pr *pooledRequest) decodeRequest(p *requestPool, b []byte, m *leadscorev1.PredictRequest) bool {
	var contact, asOf bool
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.BytesType:
			s, n := protowire.ConsumeBytes(b)
			if n < 0 || !utf8.Valid(s) {
				return false
			}
			m.Model, b = p.names.String(s), b[n:]
		case num == 2 && typ == protowire.VarintType:
			x, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return false
			}
			m.Version, b = int64(x), b[n:]
		case num == 3 && typ == protowire.BytesType:
			s, n := protowire.ConsumeBytes(b)
			if n < 0 || !utf8.Valid(s) {
				return false
			}
			m.Label, b = p.names.String(s), b[n:]
		case num == 4 && typ == protowire.BytesType && !contact:
			s, n := protowire.ConsumeBytes(b)
			if n < 0 || !pr.decodeContact(p, s) {
				return false
			}
			contact, m.Contact, b = true, &pr.contact, b[n:]
		case num == 5 && typ == protowire.BytesType && !asOf:
			s, n := protowire.ConsumeBytes(b)
			if n < 0 || !decodeTimestamp(s, &pr.asOf) {
				return false
			}
			asOf, m.AsOf, b = true, &pr.asOf, b[n:]
		case num == 6 && typ == protowire.VarintType:
			x, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return false
			}
			m.OmitRuleHits, b = x != 0, b[n:]
		default:
			return false
		}
	}
	return true
}

func (pr *pooledRequest) decodeContact(p *requestPool, b []byte) bool {
	c := &pr.contact
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.BytesType:
			s, n := protowire.ConsumeBytes(b)
			if n < 0 || !utf8.Valid(s) {
				return false
			}
			c.Id, b = string(s), b[n:]
		case num == 2 && typ == protowire.BytesType:
			s, n := protowire.ConsumeBytes(b)
			if n < 0 || !pr.decodeEntry(p, s) {
				return false
			}
			b = b[n:]
		default:
			return false
		}
	}
	return true
}

// decodeEntry decodes one entry of a contact's properties into the contact's map: as proto does, a
// missing key is "", a missing value an empty one, and a later entry of the same key replaces an
// earlier one.
func (pr *pooledRequest) decodeEntry(p *requestPool, b []byte) bool {
	var key []byte
	var val *leadscorev1.Value
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.BytesType:
			s, n := protowire.ConsumeBytes(b)
			if n < 0 || !utf8.Valid(s) {
				return false
			}
			key, b = s, b[n:]
		case num == 2 && typ == protowire.BytesType && val == nil:
			s, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return false
			}
			if val = pr.decodeValue(p, s); val == nil {
				return false
			}
			b = b[n:]
		default:
			return false
		}
	}
	if val == nil {
		val = pr.vals.next()
	}
	if pr.contact.Properties == nil {
		pr.contact.Properties = make(map[string]*leadscorev1.Value, 32)
	}
	pr.contact.Properties[p.names.String(key)] = val
	return true
}

// decodeValue decodes a Value, nil when it declines: as proto does, of the kinds sent the last is
// kept.
func (pr *pooledRequest) decodeValue(p *requestPool, b []byte) *leadscorev1.Value {
	v := pr.vals.next()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.BytesType:
			s, n := protowire.ConsumeBytes(b)
			if n < 0 || !utf8.Valid(s) {
				return nil
			}
			k := pr.strs.next()
			k.StringValue, v.Kind, b = p.texts.String(s), k, b[n:]
		case num == 2 && typ == protowire.Fixed64Type:
			x, n := protowire.ConsumeFixed64(b)
			if n < 0 {
				return nil
			}
			k := pr.nums.next()
			k.NumberValue, v.Kind, b = math.Float64frombits(x), k, b[n:]
		case num == 3 && typ == protowire.VarintType:
			x, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil
			}
			k := pr.flags.next()
			k.BoolValue, v.Kind, b = x != 0, k, b[n:]
		case num == 4 && typ == protowire.BytesType:
			if _, twice := v.Kind.(*leadscorev1.Value_TimestampValue); twice {
				return nil // proto merges the two
			}
			s, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil
			}
			ts := pr.stamps.next()
			if !decodeTimestamp(s, ts) {
				return nil
			}
			k := pr.times.next()
			k.TimestampValue, v.Kind, b = ts, k, b[n:]
		default:
			return nil
		}
	}
	return v
}

// decodeTimestamp decodes a google.protobuf.Timestamp into ts, which must be empty.
func decodeTimestamp(b []byte, ts *timestamppb.Timestamp) bool {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || typ != protowire.VarintType || num != 1 && num != 2 {
			return false
		}
		x, m := protowire.ConsumeVarint(b[n:])
		if m < 0 {
			return false
		}
		if num == 1 {
			ts.Seconds = int64(x)
		} else {
			ts.Nanos = int32(x)
		}
		b = b[n+m:]
	}
	return true
}
