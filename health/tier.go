package health

import (
	"cmp"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Quarter is a calendar quarter in UTC, written "2026-Q3".
type Quarter struct {
	Year int
	Q    int // 1 to 4
}

var quarterPattern = regexp.MustCompile(`^(\d{4})-Q([1-4])$`)

// ParseQuarter reads "2026-Q3".
func ParseQuarter(s string) (Quarter, error) {
	m := quarterPattern.FindStringSubmatch(s)
	if m == nil {
		return Quarter{}, fmt.Errorf("%q is not a quarter such as 2026-Q3", s)
	}
	y, _ := strconv.Atoi(m[1])
	q, _ := strconv.Atoi(m[2])
	if y < 2000 || y > 2200 {
		return Quarter{}, fmt.Errorf("%q: the year must be between 2000 and 2200", s)
	}
	return Quarter{y, q}, nil
}

// QuarterOf is the quarter t falls in.
func QuarterOf(t time.Time) Quarter {
	t = t.UTC()
	return Quarter{t.Year(), (int(t.Month())-1)/3 + 1}
}

func (q Quarter) String() string { return fmt.Sprintf("%d-Q%d", q.Year, q.Q) }

// Start is the quarter's first instant.
func (q Quarter) Start() time.Time {
	return time.Date(q.Year, time.Month(3*(q.Q-1)+1), 1, 0, 0, 0, 0, time.UTC)
}

// End is the first instant after the quarter.
func (q Quarter) End() time.Time { return q.Start().AddDate(0, 3, 0) }

// Prev is the quarter before.
func (q Quarter) Prev() Quarter { return QuarterOf(q.Start().Add(-time.Hour)) }

// Fraction is a metric's counts.
type Fraction struct{ Num, Den int64 }

// WindowCounts are a seller's counts over the orders placed in one window, each
// judged as of the window's end: what tiers and programs are judged by.
type WindowCounts struct {
	Orders  int64
	Metrics map[MetricID]Fraction
}

// Threshold is one criterion of a tier or a program: a metric and its target.
type Threshold struct {
	Metric MetricID
	Target Target
}

// TierLevel is one level of the tiers.
type TierLevel struct {
	Name       string
	MinOrders  int64
	Thresholds []Threshold // none for the lowest level
	Benefits   []string
}

// TierPolicy is the tiers, best first; the last has no thresholds.
type TierPolicy struct {
	// IntroUntil is the first instant after the introductory period (the day after
	// the policy's intro_until date); zero when there is none. A quarter ending by
	// then holds every seller at StartTier.
	IntroUntil time.Time
	Levels     []TierLevel
}

// StartTier is the tier every seller holds until a quarter says otherwise.
const StartTier = "standard"

// Level finds a level by name.
func (p TierPolicy) Level(name string) (TierLevel, int, bool) {
	for i, l := range p.Levels {
		if l.Name == name {
			return l, i, true
		}
	}
	return TierLevel{}, -1, false
}

// Criterion is a threshold as a seller stands against it.
type Criterion struct {
	Metric      MetricID `json:"metric"`
	Value       *float64 `json:"value"`
	Threshold   Target   `json:"threshold"`
	Met         bool     `json:"met"`
	Numerator   int64    `json:"numerator"`
	Denominator int64    `json:"denominator"`
}

// Gap is what a seller lacks for a criterion: how many of the window's orders
// would have had to be good (the same orders counted) to meet it.
type Gap struct {
	Metric      MetricID `json:"metric"`
	Value       *float64 `json:"value"`
	Threshold   Target   `json:"threshold"`
	OrdersToFix int64    `json:"orders_to_fix"`
	Advice      string   `json:"advice"`
}

// TierStanding is where a seller stands after a quarter: the tier, the criteria of
// that tier (of the next one up for the lowest), and what the next tier needs.
type TierStanding struct {
	Tier     string      `json:"tier"`
	Criteria []Criterion `json:"criteria"`
	Next     *NextTier   `json:"next"`
}

// NextTier is the tier above and the gaps to it.
type NextTier struct {
	Tier string `json:"tier"`
	Gaps []Gap  `json:"gaps"`
}

// Judge places a seller in the best tier whose every threshold it meets, with
// enough orders; a quarter that ends within the introductory period holds every
// seller at StartTier. A metric with no orders to count meets its threshold.
func (p TierPolicy) Judge(c WindowCounts, quarterEnd time.Time) TierStanding {
	held := len(p.Levels) - 1
	for i, l := range p.Levels {
		if c.Orders >= l.MinOrders && allMet(criteria(c, l.Thresholds)) {
			held = i
			break
		}
	}
	if !p.IntroUntil.IsZero() && !quarterEnd.After(p.IntroUntil) {
		if _, i, ok := p.Level(StartTier); ok {
			held = i
		}
	}
	l := p.Levels[held]
	s := TierStanding{Tier: l.Name, Criteria: criteria(c, l.Thresholds)}
	if len(l.Thresholds) == 0 && held > 0 {
		s.Criteria = criteria(c, p.Levels[held-1].Thresholds)
	}
	if held > 0 {
		next := p.Levels[held-1]
		s.Next = &NextTier{Tier: next.Name, Gaps: gaps(c, next)}
	}
	return s
}

func criteria(c WindowCounts, ts []Threshold) []Criterion {
	out := make([]Criterion, 0, len(ts))
	for _, t := range ts {
		f := c.Metrics[t.Metric]
		cr := Criterion{Metric: t.Metric, Threshold: t.Target, Met: true, Numerator: f.Num, Denominator: f.Den}
		if f.Den > 0 {
			v := float64(f.Num) / float64(f.Den)
			cr.Value, cr.Met = &v, t.Target.Met(v)
		}
		out = append(out, cr)
	}
	return out
}

func allMet(cs []Criterion) bool {
	for _, c := range cs {
		if !c.Met {
			return false
		}
	}
	return true
}

func gaps(c WindowCounts, l TierLevel) []Gap {
	out := []Gap{}
	if c.Orders < l.MinOrders {
		v := float64(c.Orders)
		out = append(out, Gap{Metric: "orders", Value: &v, Threshold: Target{Op: GreaterEqual, Value: float64(l.MinOrders)},
			OrdersToFix: l.MinOrders - c.Orders,
			Advice:      fmt.Sprintf("%s needs at least %d orders in a quarter: %d more.", title(l.Name), l.MinOrders, l.MinOrders-c.Orders)})
	}
	for _, cr := range criteria(c, l.Thresholds) {
		if cr.Met {
			continue
		}
		k := OrdersToFix(cr.Threshold, cr.Numerator, cr.Denominator)
		out = append(out, Gap{Metric: cr.Metric, Value: cr.Value, Threshold: cr.Threshold, OrdersToFix: k,
			Advice: Advice(cr.Metric, k, title(l.Name))})
	}
	return out
}

// OrdersToFix is how many of the orders counted would have had to be good for
// num of den to meet t: for an "at most" target, defective orders fewer; for an
// "at least" one (num counts the good), good orders more.
func OrdersToFix(t Target, num, den int64) int64 {
	if den == 0 || t.Met(float64(num)/float64(den)) {
		return 0
	}
	switch t.Op {
	case Less, LessEqual:
		m := int64(math.Floor(t.Value * float64(den)))
		for m >= 0 && !t.Met(float64(m)/float64(den)) {
			m--
		}
		for m+1 <= den && t.Met(float64(m+1)/float64(den)) {
			m++
		}
		return num - max(m, 0)
	default:
		g := int64(math.Ceil(t.Value * float64(den)))
		for g <= den && !t.Met(float64(g)/float64(den)) {
			g++
		}
		for g-1 >= 0 && t.Met(float64(g-1)/float64(den)) {
			g--
		}
		return min(g, den) - num
	}
}

// changes names, one and many, what would have to change in a metric's count.
var changes = map[MetricID][2]string{
	ODR:                  {"fewer order with a defect (negative feedback, an A-to-z claim or a chargeback)", "fewer orders with a defect (negative feedback, an A-to-z claim or a chargeback)"},
	CancelRate:           {"fewer cancellation before shipping", "fewer cancellations before shipping"},
	LateShipmentRate:     {"fewer late shipment", "fewer late shipments"},
	ValidTrackingRate:    {"more shipment with a tracking number and a carrier scan", "more shipments with a tracking number and a carrier scan"},
	OnTimeDeliveryRate:   {"more delivery on time", "more deliveries on time"},
	ResponseRate:         {"more buyer message answered within 24 hours", "more buyer messages answered within 24 hours"},
	ReturnRate:           {"fewer return", "fewer returns"},
	RefundRate:           {"fewer refund", "fewer refunds"},
	NegativeFeedbackRate: {"fewer order with negative feedback", "fewer orders with negative feedback"},
}

// Advice says how many orders would change a standing, and what helps.
func Advice(m MetricID, k int64, goal string) string {
	what, ok := changes[m]
	if !ok {
		what = [2]string{"order counted better in " + string(m), "orders counted better in " + string(m)}
	}
	noun := what[1]
	if k == 1 {
		noun = what[0]
	}
	s := fmt.Sprintf("%d %s would have reached %s.", k, noun, goal)
	if r := Define(m).Recommendations; len(r) > 0 {
		s += " " + r[0]
	}
	return s
}

func title(name string) string {
	if name == "" {
		return name
	}
	return strings.ToUpper(name[:1]) + strings.ReplaceAll(name[1:], "_", " ")
}

// ProgramPolicy is an invitation-only program and who is invited.
type ProgramPolicy struct {
	Name       string
	Title      string
	WindowDays int
	MinOrders  int64
	Criteria   []Threshold
}

// Window is the length of the program's window.
func (p ProgramPolicy) Window() time.Duration { return time.Duration(p.WindowDays) * 24 * time.Hour }

// Judge says whether a seller with counts c over the program's window meets every
// criterion and has enough orders, with each criterion as it stands.
func (p ProgramPolicy) Judge(c WindowCounts) (bool, []Criterion) {
	cs := criteria(c, p.Criteria)
	return c.Orders >= p.MinOrders && allMet(cs), cs
}

// WindowMetrics are the metrics tiers and programs may name: those counted over
// the orders placed in a window.
var WindowMetrics = []MetricID{ODR, CancelRate, LateShipmentRate, ValidTrackingRate, ReturnRate}

func windowMetric(m MetricID) bool {
	for _, w := range WindowMetrics {
		if w == m {
			return true
		}
	}
	return false
}

func defaultTiers() TierPolicy {
	t := func(op Op, v float64) Target { return Target{Op: op, Value: v} }
	four := func(odr, cancel, late Target, tracking Target) []Threshold {
		return []Threshold{{ODR, odr}, {CancelRate, cancel}, {LateShipmentRate, late}, {ValidTrackingRate, tracking}}
	}
	return TierPolicy{Levels: []TierLevel{
		{Name: "premium", MinOrders: 100, Thresholds: four(t(LessEqual, 0.0025), t(LessEqual, 0.005), t(LessEqual, 0.01), t(GreaterEqual, 0.99)),
			Benefits: []string{"Referral fee waiver on your best-selling category", "Disbursement every day", "Priority support", "A named account manager"}},
		{Name: "advanced", MinOrders: 50, Thresholds: four(t(LessEqual, 0.005), t(LessEqual, 0.01), t(LessEqual, 0.02), t(GreaterEqual, 0.98)),
			Benefits: []string{"Reduced closing fees", "Disbursement twice a week", "Priority support"}},
		{Name: "standard", Thresholds: four(t(Less, 0.01), t(Less, 0.025), t(Less, 0.04), t(GreaterEqual, 0.95)),
			Benefits: []string{"Weekly disbursement", "Standard support"}},
		{Name: "basic", Benefits: []string{"Weekly disbursement", "Standard support; improve the numbers below to reach Standard"}},
	}}
}

func defaultPrograms() []ProgramPolicy {
	t := func(op Op, v float64) Target { return Target{Op: op, Value: v} }
	return []ProgramPolicy{{Name: "business", Title: "Business seller program", WindowDays: 90, MinOrders: 100,
		Criteria: []Threshold{{ODR, t(Less, 0.01)}, {CancelRate, t(Less, 0.01)}, {LateShipmentRate, t(Less, 0.02)}, {ReturnRate, t(Less, 0.05)}}}}
}

// applyTiers reads the tiers section: intro_until, and levels (which, when given,
// replace the built-in levels: their order is their rank).
func applyTiers(p *TierPolicy, key string, v *yaml.Node) error {
	switch key {
	case "tiers.intro_until":
		s, err := scalar(key, v)
		if err != nil {
			return err
		}
		if s == "" {
			p.IntroUntil = time.Time{}
			return nil
		}
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			return &PolicyError{key, fmt.Sprintf("%q must be a date such as 2027-03-31", s)}
		}
		p.IntroUntil = d.AddDate(0, 0, 1)
		return nil
	case "tiers.levels":
		var levels []TierLevel
		err := eachKey(v, key, func(k string, n *yaml.Node) error {
			l, err := parseLevel(k, n)
			levels = append(levels, l)
			return err
		})
		if err != nil {
			return err
		}
		if err := checkLevels(key, levels); err != nil {
			return err
		}
		p.Levels = levels
		return nil
	}
	return &PolicyError{key, "unknown key (known: intro_until, levels)"}
}

func parseLevel(key string, n *yaml.Node) (TierLevel, error) {
	l := TierLevel{Name: key[strings.LastIndexByte(key, '.')+1:], Benefits: []string{}}
	if !ValidCode(l.Name) {
		return l, &PolicyError{key, "a level's name must be lower_snake_case"}
	}
	err := eachKey(n, key, func(k string, v *yaml.Node) error {
		name := k[len(key)+1:]
		switch name {
		case "min_orders":
			d, err := integer(k, v, 0, 1<<40)
			l.MinOrders = d
			return err
		case "benefits":
			texts, err := textList(k, v)
			l.Benefits = texts
			return err
		}
		t, err := parseThreshold(k, MetricID(name), v)
		l.Thresholds = append(l.Thresholds, t)
		return err
	})
	return l, err
}

func parseThreshold(key string, m MetricID, v *yaml.Node) (Threshold, error) {
	if !windowMetric(m) {
		return Threshold{}, &PolicyError{key, fmt.Sprintf("unknown criterion (known: min_orders, benefits and the metrics %v)", WindowMetrics)}
	}
	s, err := scalar(key, v)
	if err != nil {
		return Threshold{}, err
	}
	t, err := ParseTarget(s)
	if err != nil {
		return Threshold{}, &PolicyError{key, err.Error()}
	}
	return Threshold{Metric: m, Target: t}, nil
}

func textList(key string, v *yaml.Node) ([]string, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, &PolicyError{key, fmt.Sprintf("must be a list of texts (line %d)", v.Line)}
	}
	out := make([]string, 0, len(v.Content))
	for i, item := range v.Content {
		k := fmt.Sprintf("%s[%d]", key, i)
		s, err := scalar(k, item)
		if err != nil {
			return nil, err
		}
		if p := TextProblem(s, false); p != "" || s == "" || Length(s) > 200 {
			if p == "" {
				p = "must be 1 to 200 characters"
			}
			return nil, &PolicyError{k, p}
		}
		out = append(out, s)
	}
	return out, nil
}

// checkLevels holds the levels to their order: a level may ask no less than the
// one below it, the lowest asks nothing, and every seller's starting tier exists.
func checkLevels(key string, levels []TierLevel) error {
	if len(levels) == 0 {
		return &PolicyError{key, "must name at least one level"}
	}
	if _, _, ok := (TierPolicy{Levels: levels}).Level(StartTier); !ok {
		return &PolicyError{key, "must have a level named " + StartTier + ": every seller starts there"}
	}
	last := levels[len(levels)-1]
	if len(last.Thresholds) > 0 || last.MinOrders > 0 {
		return &PolicyError{key + "." + last.Name, "the lowest level must ask nothing: it is where a seller meeting no other lands"}
	}
	for i := 0; i+1 < len(levels); i++ {
		hi, lo := levels[i], levels[i+1]
		if hi.MinOrders < lo.MinOrders {
			return &PolicyError{key + "." + hi.Name + ".min_orders", fmt.Sprintf("%d is less than %s's %d: levels go best first", hi.MinOrders, lo.Name, lo.MinOrders)}
		}
		for _, lt := range lo.Thresholds {
			var ht *Threshold
			for j := range hi.Thresholds {
				if hi.Thresholds[j].Metric == lt.Metric {
					ht = &hi.Thresholds[j]
				}
			}
			k := key + "." + hi.Name + "." + string(lt.Metric)
			if ht == nil {
				return &PolicyError{k, fmt.Sprintf("is missing, while the lower level %s asks %s: levels go best first", lo.Name, lt.Target)}
			}
			if easier(ht.Target, lt.Target) {
				return &PolicyError{k, fmt.Sprintf("%s is easier than the lower level %s's %s: levels go best first", ht.Target, lo.Name, lt.Target)}
			}
		}
	}
	return nil
}

// easier reports whether target a asks less than b of the same metric.
func easier(a, b Target) bool {
	atMost := func(t Target) bool { return t.Op == Less || t.Op == LessEqual }
	if atMost(a) != atMost(b) {
		return true // a rule of the other direction cannot be compared: refuse it
	}
	if atMost(a) {
		return a.Value > b.Value
	}
	return a.Value < b.Value
}

// applyPrograms reads the programs section: each program given replaces the
// built-in one of its name, or adds one.
func applyPrograms(ps *[]ProgramPolicy, key string, v *yaml.Node) error {
	name := strings.TrimPrefix(key, "programs.")
	if !ValidCode(name) {
		return &PolicyError{key, "a program's name must be lower_snake_case"}
	}
	p := ProgramPolicy{Name: name, Title: title(name), WindowDays: 90}
	err := eachKey(v, key, func(k string, n *yaml.Node) error {
		switch k[len(key)+1:] {
		case "title":
			s, err := scalar(k, n)
			if err != nil {
				return err
			}
			if prob := TextProblem(s, false); prob != "" || s == "" || Length(s) > 100 {
				return &PolicyError{k, "must be a title of 1 to 100 characters"}
			}
			p.Title = s
		case "window_days":
			d, err := integer(k, n, 1, 3650)
			p.WindowDays = int(d)
			return err
		case "min_orders":
			d, err := integer(k, n, 0, 1<<40)
			p.MinOrders = d
			return err
		case "criteria":
			return eachKey(n, k, func(ck string, cv *yaml.Node) error {
				t, err := parseThreshold(ck, MetricID(ck[len(k)+1:]), cv)
				p.Criteria = append(p.Criteria, t)
				return err
			})
		default:
			return &PolicyError{k, "unknown key (known: title, window_days, min_orders, criteria)"}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(p.Criteria) == 0 {
		return &PolicyError{key + ".criteria", "must name at least one criterion"}
	}
	for i := range *ps {
		if (*ps)[i].Name == name {
			(*ps)[i] = p
			return nil
		}
	}
	*ps = append(*ps, p)
	return nil
}

// TierCause says why a seller's tier changed, for the rating's ledger.
func TierCause(quarter, previous, tier string) string {
	return fmt.Sprintf("performance tier for %s: %s, was %s", quarter, title(tier), title(previous))
}

// Breach is a metric missing its target now, as a recommendation needs it.
type Breach struct {
	Metric      MetricID
	Target      Target
	Numerator   int64
	Denominator int64
	Action      Action
}

// Recommendation is one change a seller can make: the metric, how many orders it
// takes, and what it reaches.
type Recommendation struct {
	Metric      MetricID
	OrdersToFix int64
	Goal        string // "out of breach", or the tier it reaches
	Text        string
}

// Recommend ranks the changes that move a seller furthest: out of a breach first
// (those that lead to a suspension, then a restriction, then a notice), then to
// the next tier; within each, the fewest orders first.
func Recommend(breaches []Breach, next *NextTier) []Recommendation {
	severity := map[Action]int{Suspend: 0, Restrict: 1, Notify: 2}
	sorted := append([]Breach(nil), breaches...)
	slices.SortStableFunc(sorted, func(a, b Breach) int {
		if d := severity[a.Action] - severity[b.Action]; d != 0 {
			return d
		}
		return cmp.Compare(OrdersToFix(a.Target, a.Numerator, a.Denominator), OrdersToFix(b.Target, b.Numerator, b.Denominator))
	})
	var out []Recommendation
	for _, b := range sorted {
		k := OrdersToFix(b.Target, b.Numerator, b.Denominator)
		out = append(out, Recommendation{Metric: b.Metric, OrdersToFix: k, Goal: "out of breach",
			Text: Advice(b.Metric, k, "your target for "+Define(b.Metric).Title)})
	}
	if next != nil {
		gaps := append([]Gap(nil), next.Gaps...)
		slices.SortStableFunc(gaps, func(a, b Gap) int { return cmp.Compare(a.OrdersToFix, b.OrdersToFix) })
		for _, g := range gaps {
			out = append(out, Recommendation{Metric: g.Metric, OrdersToFix: g.OrdersToFix, Goal: title(next.Tier), Text: g.Advice})
		}
	}
	return out
}
