package features

// Label is the known outcome of a contact.
type Label int8

// The outcomes. Open contacts (deal still in progress, or outcome unknown) never count as lost.
const (
	Open Label = -1
	Lost Label = 0
	Won  Label = 1
)

// Closed reports whether the outcome is known.
func (l Label) Closed() bool { return l == Won || l == Lost }
