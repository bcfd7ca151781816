// Package app is the application layer: one package per family of use cases
// (cases, ingest, sellers), each a service that the JSON API, the web pages and
// the command line call alike, so every rule is shared and none is written twice.
// A handler binds its input, calls a service, and presents the answer. This
// package holds what the services share: who is asking, and the errors a use case
// answers with, which the API maps to its answers in one place.
package app

import (
	"fmt"

	"github.com/accounthealth/accounthealth/store"
)

// Principal is who is asking: a role, and the seller or reviewer a key or a
// session is bound to.
type Principal struct {
	Role       store.Role
	SellerID   string // for a seller
	ReviewerID string // for a reviewer
}

// CanSeeSeller is the ownership rule: a seller sees only themself; reviewers and
// the admin see everyone. A seller asking for another seller's data is answered
// "not found", so ids do not leak.
func (p Principal) CanSeeSeller(sellerID string) bool {
	switch p.Role {
	case store.RoleAdmin, store.RoleReviewer:
		return true
	case store.RoleSeller:
		return p.SellerID == sellerID
	}
	return false
}

// Actor names the principal on a timeline or in an idempotency record.
func (p Principal) Actor() string {
	switch p.Role {
	case store.RoleSeller:
		return "seller:" + p.SellerID
	case store.RoleReviewer:
		return "reviewer:" + p.ReviewerID
	}
	return string(p.Role)
}

// Kind is what went wrong with a request, as a caller needs to know it.
type Kind int

const (
	KindInvalid   Kind = iota + 1 // the request is malformed or incomplete: Fields names the parts
	KindNotFound                  // it names something that does not exist (or the caller may not see)
	KindConflict                  // it cannot be done in the present state
	KindForbidden                 // the caller may not do it
	KindFailed                    // it was taken but could not be carried out; nothing changed
)

// Error is a use case's answer to a request it does not carry out.
type Error struct {
	Kind    Kind
	Message string
	Fields  map[string]string // for KindInvalid: field → problem
}

func (e *Error) Error() string { return e.Message }

// Invalid is a request with problems, each named by its field.
func Invalid(message string, fields map[string]string) *Error {
	return &Error{Kind: KindInvalid, Message: message, Fields: fields}
}

// NotFound names what was not found.
func NotFound(what string) *Error {
	return &Error{Kind: KindNotFound, Message: what + " not found"}
}

// Conflict says why the request cannot be done now.
func Conflict(format string, args ...any) *Error {
	return &Error{Kind: KindConflict, Message: fmt.Sprintf(format, args...)}
}

// Forbidden says what the caller may not do.
func Forbidden(message string) *Error { return &Error{Kind: KindForbidden, Message: message} }

// Failed says what could not be carried out.
func Failed(message string) *Error { return &Error{Kind: KindFailed, Message: message} }
