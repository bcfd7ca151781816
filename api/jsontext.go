package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/accounthealth/accounthealth/health"
	"github.com/labstack/echo/v4"
)

// walkJSON calls visit for every value of the JSON text b (a container's start
// counts as its value), with a function naming its place ("events[3].rating";
// "" is the whole text) and the bytes from the end of the previous token to its
// own end, which is offset end in b. visit returns false to stop. ok is false when b is not well-formed
// JSON; callers then leave the answer to the decoder.
func walkJSON(b []byte, visit func(path func() string, tok json.Token, raw []byte, end int64) bool) (ok bool) {
	type frame struct {
		array   bool
		index   int
		key     string
		wantKey bool
	}
	var stack []frame
	path := func() string {
		var p strings.Builder
		for _, f := range stack {
			if f.array {
				fmt.Fprintf(&p, "[%d]", f.index)
			} else {
				if p.Len() > 0 {
					p.WriteByte('.')
				}
				p.WriteString(f.key)
			}
		}
		return p.String()
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return err.Error() == "EOF" && len(stack) == 0
		}
		top := len(stack) - 1
		if d, isDelim := tok.(json.Delim); isDelim && (d == '}' || d == ']') {
			stack = stack[:top]
			if top > 0 && !stack[top-1].array {
				stack[top-1].wantKey = true
			}
			continue
		}
		if top >= 0 && !stack[top].array && stack[top].wantKey {
			stack[top].key, _ = tok.(string)
			stack[top].wantKey = false
			continue
		}
		// tok is a value, or the start of one.
		if top >= 0 && stack[top].array {
			stack[top].index++
		}
		if !visit(path, tok, b[start:dec.InputOffset()], dec.InputOffset()) {
			return true
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{wantKey: true})
		case json.Delim('['):
			stack = append(stack, frame{array: true, index: -1})
		default:
			if top >= 0 && !stack[top].array {
				stack[top].wantKey = true
			}
		}
	}
}

// jsonPath names the value of the JSON text b that ends at offset.
func jsonPath(b []byte, offset int64) (path string, ok bool) {
	walkJSON(b, func(p func() string, _ json.Token, _ []byte, end int64) bool {
		if end >= offset {
			path, ok = p(), true
			return false
		}
		return true
	})
	return path, ok
}

// checkText checks every string value of a JSON body as text (valid UTF-8, no
// control characters; newlines and tabs only in the free-text fields named),
// and answers the problems by field.
func checkText(b []byte, freeText map[string]bool) map[string]string {
	problems := map[string]string{}
	walkJSON(b, func(path func() string, tok json.Token, raw []byte, _ int64) bool {
		s, isString := tok.(string)
		if !isString {
			return true
		}
		p := path()
		if problem := health.JSONTextProblem(raw, s, freeText[p]); problem != "" {
			problems[p] = problem
		}
		return true
	})
	return problems
}

// freeTextFields names the JSON fields of dst (a pointer to a struct) that a
// person writes, tagged text:"free": they may hold newlines and tabs.
func freeTextFields(dst any) map[string]bool {
	t := reflect.TypeOf(dst)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	out := map[string]bool{}
	if t == nil || t.Kind() != reflect.Struct {
		return out
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Tag.Get("text") == "free" {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			out[name] = true
		}
	}
	return out
}

// formMemory is how much of a multipart form is kept in memory rather than in
// temporary files: more than any form's size limit, so no file is left on disk.
const formMemory = 32 << 20

// checkInput checks the text a request carries outside a JSON body, before any
// handler sees it: a path id that is not text cannot exist (404); a query value,
// the Idempotency-Key header or a form field that is not text is named (400). A
// form's CRLF line breaks become LF first, so what is stored is what was typed.
func checkInput(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		for _, v := range c.ParamValues() {
			if u, err := url.PathUnescape(v); err != nil || health.TextProblem(u, false) != "" {
				return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "not found"}
			}
		}
		problems := map[string]string{}
		for name, values := range c.QueryParams() {
			for _, v := range append(values, name) {
				if p := health.TextProblem(v, false); p != "" {
					problems[name] = p
				}
			}
		}
		if k := c.Request().Header.Get("Idempotency-Key"); k != "" {
			if p := health.TextProblem(k, false); p != "" {
				problems["Idempotency-Key"] = p
			}
		}
		r := c.Request()
		ct := r.Header.Get(echo.HeaderContentType)
		// A page's form with a file comes as multipart; its text fields are checked
		// like any form's. The API's upload has no text fields to check.
		multipartForm := strings.HasPrefix(ct, echo.MIMEMultipartForm) && !isAPI(r.URL.Path)
		if r.Method == http.MethodPost && (strings.HasPrefix(ct, echo.MIMEApplicationForm) || multipartForm) {
			parse := r.ParseForm
			if multipartForm {
				parse = func() error { return r.ParseMultipartForm(formMemory) }
			}
			if err := parse(); err != nil {
				var maxErr *http.MaxBytesError
				if errors.As(err, &maxErr) {
					return &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large",
						Message: fmt.Sprintf("the form is larger than %d bytes", maxErr.Limit)}
				}
				return invalid("the form cannot be read", nil)
			}
			for _, form := range []url.Values{r.PostForm, r.Form} {
				for name, values := range form {
					for i, v := range values {
						values[i] = health.NormalizeNewlines(v)
						if p := health.TextProblem(values[i], true); p != "" {
							problems[name] = p
						}
					}
				}
			}
		}
		if len(problems) > 0 {
			names := slices.Sorted(maps.Keys(problems))
			return invalid("these values hold text that cannot be stored: "+strings.Join(names, ", "), problems)
		}
		return next(c)
	}
}
