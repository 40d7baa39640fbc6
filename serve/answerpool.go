package serve

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"google.golang.org/grpc/mem"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
	"github.com/leadscore/leadscore/serve/codec"
)

// answerPool keeps the memory of Predict answers (an answer: about 2 KB, most of what a call
// allocates) from one gRPC call to the next. An answer goes back to the pool only when nothing can
// refer to it any more: serveUnary hands it over (pend) as a gRPC Predict call returns it, and the
// server's codec takes it back (release) once it has marshaled it, which grpc-go does at once on
// the call's goroutine, before the next message of the stream. Answers of other paths (REST,
// PredictBatch, PredictStream, a call with Options.Interceptors, which may keep a response) are
// left to the garbage collector.
type answerPool struct {
	free sync.Pool
	// pending holds the answers handed over and not yet marshaled, by their response's address.
	pending handover[answer]
}

// handover keeps pooled memory between the two places of a call that know it by an address: where
// it is handed over and where it is taken back (see answerPool and requestPool). Each memory waits at
// the place its address hashes to, and takes it from memory left there before, which goes to the
// garbage collector: so memory never taken back (its call failed between the two places, as a
// unary call does when its client sends a second message) holds a place only until another call
// needs it. Its 1 << handoverBits places are above the calls a server runs at once.
type handover[T any] [1 << handoverBits]atomic.Pointer[T]

const handoverBits = 10

func (h *handover[T]) place(key unsafe.Pointer) *atomic.Pointer[T] {
	return &h[uint64(uintptr(key))*0x9e3779b97f4a7c15>>(64-handoverBits)]
}

// hand leaves v to be taken back by key.
func (h *handover[T]) hand(key unsafe.Pointer, v *T) {
	h.place(key).Store(v)
}

// take returns the memory left by key, if the memory at its place is owned by key (owned).
func (h *handover[T]) take(key unsafe.Pointer, owned func(*T) bool) *T {
	place := h.place(key)
	if v := place.Load(); v != nil && owned(v) && place.CompareAndSwap(v, nil) {
		return v
	}
	return nil
}

// get returns an empty answer.
func (p *answerPool) get() *answer {
	if a, _ := p.free.Get().(*answer); a != nil {
		return a
	}
	return new(answer)
}

// put empties a and keeps it for get; nothing may refer to it.
func (p *answerPool) put(a *answer) {
	*a = answer{}
	p.free.Put(a)
}

// pend hands over a, whose response gRPC is about to marshal.
func (p *answerPool) pend(a *answer) {
	p.pending.hand(unsafe.Pointer(&a.resp), a)
}

// release takes back the answer of r, if r is the response of an answer handed over.
func (p *answerPool) release(r *leadscorev1.PredictResponse) {
	if a := p.pending.take(unsafe.Pointer(r), func(a *answer) bool { return &a.resp == r }); a != nil {
		p.put(a)
	}
}

// poolingCodec is the server's codec (see codec.Codec). When answers is not nil it gives a pooled
// answer back once it has marshaled it, and when requests is not nil it decodes Predict requests into
// pooled memory (see requestPool); what that does not take, codec.Codec decodes.
type poolingCodec struct {
	codec.Codec
	answers  *answerPool  // nil: answers are not pooled
	requests *requestPool // nil: requests are not pooled
}

func (c poolingCodec) Unmarshal(data mem.BufferSlice, v any) error {
	r, ok := v.(*leadscorev1.PredictRequest)
	if !ok || c.requests == nil {
		return c.Codec.Unmarshal(data, v)
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	if c.requests.decode(buf.ReadOnlyData(), r) {
		return nil
	}
	return c.Codec.Unmarshal(mem.BufferSlice{buf}, v) // the bytes gathered once
}

func (c poolingCodec) Marshal(v any) (mem.BufferSlice, error) {
	data, err := c.Codec.Marshal(v)
	if r, ok := v.(*leadscorev1.PredictResponse); ok && c.answers != nil {
		c.answers.release(r)
	}
	return data, err
}
