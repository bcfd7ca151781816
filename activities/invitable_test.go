package activities

import (
	"slices"
	"testing"

	"github.com/accounthealth/accounthealth/store"
)

// The sweep counts the orders of only the sellers a program could still invite.
func TestInvitableLeavesOutWhomTheProgramHasAnswered(t *testing.T) {
	held := map[string]map[string]store.SellerProgram{
		"invited":  {"business": {Status: store.ProgramInvited}},
		"member":   {"business": {Status: store.ProgramAccepted}},
		"declined": {"business": {Status: store.ProgramDeclined}},
		"revoked":  {"business": {Status: store.ProgramRevoked}},
		"other":    {"exporters": {Status: store.ProgramAccepted}},
	}
	ids := []string{"declined", "invited", "member", "new", "other", "revoked"}
	got := Invitable(ids, held, "business")
	if want := []string{"new", "other", "revoked"}; !slices.Equal(got, want) {
		t.Errorf("Invitable = %v, want %v", got, want)
	}
	if got := Invitable(ids, nil, "business"); !slices.Equal(got, ids) {
		t.Errorf("with nothing held, Invitable = %v, want every seller", got)
	}
}
