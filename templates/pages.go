package templates

import (
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"math"
	"strings"
	"time"
)

//go:embed pages static
var pageFiles embed.FS

// Static is the stylesheet and other files served under /static/.
var Static, _ = fs.Sub(pageFiles, "static")

var pageFuncs = htmltemplate.FuncMap{
	"date":          func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 MST") },
	"percent":       funcs["percent"],
	"targetPercent": funcs["targetPercent"],
	"human":         funcs["human"],
	"metric":        funcs["metric"],
	"deref": func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	},
	"left":    timeLeft,
	"overdue": func(t *time.Time) bool { return t != nil && time.Now().After(*t) },
	"spark":   Sparkline,
	"field": func(name, label, hint string, form, errs map[string]string) Field {
		return Field{Name: name, Label: label, Hint: hint, Value: form[name], Error: errs[name]}
	},
}

// Field is one labelled form field with what was typed and what is wrong with it.
type Field struct {
	Name, Label, Hint, Value, Error string
}

var pages = htmltemplate.Must(htmltemplate.New("").Funcs(pageFuncs).ParseFS(pageFiles, "pages/*.html"))

// RenderPage writes page name (a file in pages/ defining "<name>") with data.
func RenderPage(w io.Writer, name string, data any) error {
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		return fmt.Errorf("render page %s: %w", name, err)
	}
	return nil
}

// timeLeft says how long until t, in words a person reads at a glance.
func timeLeft(t *time.Time) string {
	if t == nil {
		return ""
	}
	d := time.Until(*t)
	past := d < 0
	if past {
		d = -d
	}
	var s string
	switch {
	case d >= 48*time.Hour:
		s = fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= 2*time.Hour:
		s = fmt.Sprintf("%d hours", int(d.Hours()))
	case d >= 2*time.Minute:
		s = fmt.Sprintf("%d minutes", int(d.Minutes()))
	default:
		s = fmt.Sprintf("%d seconds", int(d.Seconds()))
	}
	if past {
		return s + " ago"
	}
	return s + " left"
}

// Point is one value of a trend.
type Point struct {
	Value *float64
	Bad   bool
}

// Sparkline draws a trend as a small inline SVG: the line of values, the target
// as a dashed line, breaches as red dots. Only numbers go into it, so it is safe.
func Sparkline(points []Point, target float64) htmltemplate.HTML {
	const w, h, pad = 160.0, 40.0, 4.0
	var vals []float64
	for _, p := range points {
		if p.Value != nil {
			vals = append(vals, *p.Value)
		}
	}
	if len(vals) == 0 {
		return `<span class="muted">no data yet</span>`
	}
	lo, hi := math.Min(target, vals[0]), math.Max(target, vals[0])
	for _, v := range vals {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if hi-lo < 1e-9 {
		hi = lo + 0.01
	}
	y := func(v float64) float64 { return pad + (h-2*pad)*(1-(v-lo)/(hi-lo)) }
	x := func(i int) float64 {
		if len(points) == 1 {
			return w / 2
		}
		return pad + (w-2*pad)*float64(i)/float64(len(points)-1)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="spark" role="img" aria-label="trend over the last %d evaluations" width="%g" height="%g" viewBox="0 0 %g %g">`, len(points), w, h, w, h)
	fmt.Fprintf(&b, `<line x1="0" x2="%g" y1="%.1f" y2="%.1f" stroke="#888" stroke-dasharray="3 3"/>`, w, y(target), y(target))
	var line []string
	for i, p := range points {
		if p.Value != nil {
			line = append(line, fmt.Sprintf("%.1f,%.1f", x(i), y(*p.Value)))
		}
	}
	fmt.Fprintf(&b, `<polyline fill="none" stroke="#2458a6" stroke-width="2" points="%s"/>`, strings.Join(line, " "))
	for i, p := range points {
		if p.Value != nil && p.Bad {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="#c0392b"/>`, x(i), y(*p.Value))
		}
	}
	b.WriteString(`</svg>`)
	return htmltemplate.HTML(b.String())
}
