package workflows

import (
	"crypto/rand"
)

// newCaseID makes a short case id people can read out on the phone: "C-" and ten
// characters without look-alikes. Called only inside a SideEffect.
func newCaseID() string {
	const alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "C-" + string(b)
}
