package memo

// Texts interns strings read from bytes: equal bytes give one string, kept from the first time
// (up to the limit it was made with, of texts up to maxLen bytes), so that texts that repeat (the
// names of properties, the categories of a CRM field) cost no allocation once seen. Build it with
// NewTexts.
type Texts struct {
	m      *Map[string, string]
	maxLen int
}

// NewTexts returns Texts that keeps at most limit texts, each at most maxLen bytes long.
func NewTexts(limit, maxLen int) *Texts {
	return &Texts{m: New[string, string](limit), maxLen: maxLen}
}

// String returns b as a string: the one kept for the same bytes, else a new one, which is kept
// while there is room.
func (t *Texts) String(b []byte) string {
	if len(b) > t.maxLen {
		return string(b)
	}
	if p := t.m.m.Load(); p != nil {
		if s, ok := (*p)[string(b)]; ok { // looked up without making a string
			return s
		}
		if len(*p) >= t.m.limit {
			return string(b)
		}
	}
	s := string(b)
	t.m.Add(s, s)
	return s
}
