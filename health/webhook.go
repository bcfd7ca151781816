package health

// Types of the events the marketplace is told of (contract: "Notifications to the
// marketplace"). A case entering a state is "case.<state>", its opening
// "case.opened", so a state added to the lifecycle is told without a change here
// beyond its name in WebhookEventTypes.
const (
	EventSellerStatusChanged = "seller.status_changed"
	EventCaseOpened          = "case.opened"
	EventTierChanged         = "tier.changed"
	EventProgramInvited      = "program.invited"
	EventProgramRevoked      = "program.revoked"
)

// WebhookEventTypes is every type an endpoint may ask for.
var WebhookEventTypes = []string{
	EventSellerStatusChanged, EventCaseOpened,
	"case.enforced", "case.under_review", "case.info_requested", "case.pending_confirmation",
	"case.resolved", "case.reinstated", "case.deactivated", "case.withdrawn",
	EventTierChanged, EventProgramInvited, EventProgramRevoked,
}

// KnownEventType reports whether t is one of WebhookEventTypes.
func KnownEventType(t string) bool {
	for _, k := range WebhookEventTypes {
		if k == t {
			return true
		}
	}
	return false
}

// CaseEventType is the event a case's transition from one state to another is,
// and false when the case stays where it was (an escalation, a note): only
// entering a state is told. A case's first record is its opening.
func CaseEventType(from, to CaseState) (string, bool) {
	switch {
	case from == "":
		return EventCaseOpened, true
	case from == to:
		return "", false
	}
	return "case." + string(to), true
}
