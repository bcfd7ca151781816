// Package templates holds the mail (and, later, page) templates, embedded in the
// binary. Each mail has a text part and an HTML part from the same data.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/accounthealth/accounthealth/health"
)

//go:embed mail
var files embed.FS

// Mail names.
const (
	Warning        = "warning"
	Notice         = "notice"
	Enforcement    = "enforcement"
	Resolved       = "resolved"
	AppealReceived = "appeal_received"
	Reinstated     = "reinstated"
	Rejected       = "rejected"
	InfoRequested  = "info_requested"
	Deactivated    = "deactivated"
	Escalation     = "escalation"
	Withdrawn      = "withdrawn"
	// A suspension waiting for a reviewer, and its overdue confirmation.
	PendingConfirmation    = "pending_confirmation"
	ConfirmationEscalation = "confirmation_escalation"
	CaseMessage            = "case_message" // a message on a case, to the other side
	SignIn                 = "signin"       // not about a case: CaseURL carries the link

	// A seller's dispute of an order's defect: received (to the seller), waiting
	// (to the reviewers), decided (to the seller). Such a mail names the case the
	// order is evidence of, when there is one.
	DisputeReceived = "dispute_received"
	DisputeWaiting  = "dispute_waiting"
	DisputeDecided  = "dispute_decided"

	// About a seller's standing, not a case.
	TierChanged    = "tier_changed"
	ProgramInvited = "program_invited"
	ProgramRevoked = "program_revoked"
)

// Standing lists the mails about a seller's standing.
var Standing = []string{TierChanged, ProgramInvited, ProgramRevoked}

// Disputes lists the mails about a dispute.
var Disputes = []string{DisputeReceived, DisputeWaiting, DisputeDecided}

// Names lists every mail about a case.
var Names = []string{Warning, Notice, Enforcement, Resolved, AppealReceived, Reinstated, Rejected, InfoRequested, Deactivated, Escalation, Withdrawn, PendingConfirmation, ConfirmationEscalation, CaseMessage}

var funcs = map[string]any{
	"date": func(t time.Time) string { return t.UTC().Format("Mon 2 Jan 2006 15:04 MST") },
	"percent": func(v *float64) string {
		if v == nil {
			return "n/a"
		}
		return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.2f", *v*100), "0"), ".0") + "%"
	},
	"targetPercent": func(op string, v float64) string {
		return op + " " + strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.2f", v*100), "0"), ".0") + "%"
	},
	"human": func(v any) string { return strings.ReplaceAll(fmt.Sprint(v), "_", " ") },
	// defects and metrics name a list in words: "negative feedback and return".
	"defects": func(ds []string) string {
		return inWords(ds, func(d string) string { return strings.ReplaceAll(d, "_", " ") })
	},
	// renewable: some of the defects is a fact a later event replaces (health.Defect.Renewable).
	"renewable": func(ds []string) bool {
		return slices.ContainsFunc(ds, func(d string) bool { return health.Defect(d).Renewable() })
	},
	"metrics": func(ms []string) string {
		return inWords(ms, func(m string) string { return health.Define(health.MetricID(m)).Title })
	},
	// metric names a metric by its title (orders by the word).
	"metric": func(v any) string {
		if t := health.Define(health.MetricID(fmt.Sprint(v))).Title; t != "" {
			return t
		}
		return strings.ReplaceAll(fmt.Sprint(v), "_", " ")
	},
}

// inWords joins names as a sentence does: "a", "a and b", "a, b and c".
func inWords(list []string, name func(string) string) string {
	out := make([]string, len(list))
	for i, x := range list {
		out[i] = name(x)
	}
	if len(out) < 2 {
		return strings.Join(out, "")
	}
	return strings.Join(out[:len(out)-1], ", ") + " and " + out[len(out)-1]
}

var (
	text = texttemplate.Must(texttemplate.New("").Funcs(funcs).ParseFS(files, "mail/*.txt"))
	html = htmltemplate.Must(htmltemplate.New("").Funcs(funcs).ParseFS(files, "mail/*.html"))
)

// Mail is a rendered message.
type Mail struct {
	Subject string
	Text    string
	HTML    string
}

// Render renders mail name with data (a MailData).
func Render(name string, data MailData) (Mail, error) {
	var subj, txt, htm bytes.Buffer
	if err := text.ExecuteTemplate(&subj, name+".subject", data); err != nil {
		return Mail{}, fmt.Errorf("render %s subject: %w", name, err)
	}
	if err := text.ExecuteTemplate(&txt, name+".txt", data); err != nil {
		return Mail{}, fmt.Errorf("render %s text: %w", name, err)
	}
	if err := html.ExecuteTemplate(&htm, name+".html", data); err != nil {
		return Mail{}, fmt.Errorf("render %s html: %w", name, err)
	}
	return Mail{Subject: strings.TrimSpace(subj.String()), Text: txt.String(), HTML: htm.String()}, nil
}

// MailData is what every mail may show.
type MailData struct {
	CaseID      string
	CaseURL     string // where the seller (or reviewer) sees the case
	AppealURL   string // the API endpoint that takes a Plan of Action
	SellerID    string
	SellerName  string
	Kind        string // metric_breach | policy_violation
	State       string
	Enforcement string
	Automated   bool
	Deadline    time.Time

	// The statement of reasons.
	Metric          string
	MetricTitle     string
	Rule            string // what the numerator counts, of what
	Numerator       int64
	Denominator     int64
	Value           *float64
	TargetOp        string
	TargetValue     float64
	WindowDays      int
	WindowStart     time.Time
	WindowEnd       time.Time
	EvidenceIDs     []string // the first ids behind the numerator
	MoreEvidence    int      // how many more there are
	Recommendations []string
	ListingID       string
	Violation       string
	Note            string

	// Appeals and decisions.
	AppealID    string
	AppealsUsed int
	AppealsLeft int
	ReasonCode  string
	ReasonText  string
	Message     string
	Reviewer    string

	// A dispute of an order's defects.
	DisputeID     string
	DisputeURL    string // where a reviewer decides it
	OrderID       string
	Defects       []string // the defects it covers
	DefectMetrics []string // the metrics that count them
	DisputeReason string
	Decision      string // upheld | denied, once decided

	// A seller's standing: tiers and programs.
	DashboardURL string
	Quarter      string
	Tier         string
	PreviousTier string
	Criteria     []Criterion
	Benefits     []string
	NextTier     string
	Gaps         []Gap
	Program      string
	ProgramTitle string
	ProgramURL   string // the API endpoint of the seller's program
}

// Criterion is a criterion of a tier or program as a mail shows it.
type Criterion struct {
	Metric                 string
	Value                  *float64
	Numerator, Denominator int64
	Op                     string
	Target                 float64
	Met                    bool
}

// Gap is what the next tier needs, in words.
type Gap struct {
	Advice string
}
