package api

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/templates"
)

// Web settings.
const (
	sessionCookie = "ah_session"
	csrfCookie    = "ah_csrf" // before sign-in: a double-submit token
	sessionCtxKey = "session"
)

// viewer is who a page is for.
type viewer struct {
	Role     store.Role
	Name     string
	SellerID string
}

// pageData is what every page template gets.
type pageData struct {
	Title string
	Who   *viewer
	CSRF  string
	Flash string
	Error string
	Data  any
}

func (s *Server) registerWeb(e *echo.Echo) {
	e.StaticFS("/static", templates.Static)
	web := e.Group("", s.webSession, s.checkCSRF)
	limiter := middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(10.0 / 60), Burst: 10, ExpiresIn: 10 * time.Minute}),
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited", Message: "Too many sign-in requests from here; wait a minute and try again."}
		},
	})
	web.GET("/signin", s.signinForm)
	web.POST("/signin", s.signinRequest, limiter)
	web.GET("/signin/:token", s.signinConfirm)
	web.POST("/signin/:token", s.signinComplete, limiter)
	web.POST("/signout", s.signout)

	seller := allow(store.RoleSeller)
	reviewer := allow(store.RoleReviewer)
	both := allow(store.RoleSeller, store.RoleReviewer)
	web.GET("/", s.home, s.signedIn)
	web.GET("/cases", s.casesPage, s.signedIn, seller)
	web.GET("/cases/:id", s.casePage, s.signedIn, both)
	web.POST("/cases/:id/appeal", s.casePlan, s.signedIn, seller)
	web.POST("/cases/:id/messages", s.caseMessage, s.signedIn, both)
	web.POST("/cases/:id/disputes", s.caseDispute, s.signedIn, seller)
	web.GET("/disputes", s.myDisputesPage, s.signedIn, seller)
	web.GET("/attachments/:id", s.downloadAttachment, s.signedIn, both)
	web.POST("/programs/:program/accept", s.programAnswer, s.signedIn, seller)
	web.POST("/programs/:program/decline", s.programAnswer, s.signedIn, seller)
	web.GET("/review", s.queuePage, s.signedIn, reviewer)
	web.GET("/review/appeals/:id", s.reviewPage, s.signedIn, reviewer)
	web.POST("/review/appeals/:id/claim", s.claimAppeal, s.signedIn, reviewer)
	web.POST("/review/cases/:id/action", s.caseAction, s.signedIn, reviewer)
	web.GET("/review/disputes", s.disputesPage, s.signedIn, reviewer)
	web.GET("/review/disputes/:id", s.disputePage, s.signedIn, reviewer)
	web.POST("/review/disputes/:id/decision", s.disputeDecision, s.signedIn, reviewer)
	web.POST("/review/appeals/:id/decision", s.reviewDecision, s.signedIn, reviewer)
	web.GET("/review/mail", s.failedMailPage, s.signedIn, reviewer)
	web.POST("/review/mail/:id/resend", s.resendMailForm, s.signedIn, reviewer)
	web.GET("/review/sellers", s.sellersPage, s.signedIn, reviewer)
	web.GET("/review/sellers/:id", s.sellerPage, s.signedIn, reviewer)
	web.GET("/review/reports", s.reportsPage, s.signedIn, reviewer)
	web.POST("/review/reports/:id/decision", s.reportDecisionForm, s.signedIn, reviewer)
}

// isAPI tells the JSON API's paths from the pages'.
func isAPI(path string) bool {
	for _, p := range []string{"/v1/", "/dev/", "/healthz", "/livez", "/metrics", "/openapi.yaml"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// webSession resolves the session cookie to the same Principal the API uses, so
// both go through one authorisation path.
func (s *Server) webSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
			sess, err := s.store.SessionByHash(c.Request().Context(), HashKey(ck.Value), time.Now().UTC())
			if err == nil {
				c.Set(principalKey, principalOf(sess.Role, sess.SellerID, sess.ReviewerID))
				c.Set(sessionCtxKey, sess)
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return next(c)
	}
}

// signedIn sends the anonymous to the sign-in page.
func (s *Server) signedIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if principal(c).Role == "" {
			return c.Redirect(http.StatusSeeOther, "/signin")
		}
		return next(c)
	}
}

// csrfToken is the token forms carry: the session's, or before sign-in a random
// value also set as a SameSite cookie (double submit).
func (s *Server) csrfToken(c echo.Context) string {
	if sess, ok := c.Get(sessionCtxKey).(store.Session); ok {
		return sess.CSRF
	}
	if ck, err := c.Cookie(csrfCookie); err == nil && isCSRFToken(ck.Value) {
		return ck.Value
	}
	t := NewKey("csrf")
	c.SetCookie(s.cookie(csrfCookie, t, 0))
	c.Set(csrfCookie, t)
	return t
}

// checkCSRF refuses a form post whose token does not match.
func (s *Server) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Request().Method != http.MethodPost {
			return next(c)
		}
		want := ""
		if sess, ok := c.Get(sessionCtxKey).(store.Session); ok {
			want = sess.CSRF
		} else if ck, err := c.Cookie(csrfCookie); err == nil && isCSRFToken(ck.Value) {
			want = ck.Value // only one the server could have made: a planted "x" would do too
		}
		// From the body or a header, never the query string: a URL ends up in
		// logs, history and Referer headers.
		got := c.Request().Header.Get("X-CSRF-Token")
		if got == "" {
			got = c.Request().PostFormValue("csrf")
		}
		if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			return &Error{Status: http.StatusForbidden, Code: "csrf", Message: "This form has expired or did not come from this site. Go back, reload the page and try again."}
		}
		return next(c)
	}
}

// isCSRFToken tells whether t has the shape of a token NewKey("csrf") makes:
// the prefix and 32 random bytes in unpadded base64url.
func isCSRFToken(t string) bool {
	rest, ok := strings.CutPrefix(t, "csrf_")
	if !ok || len(rest) != base64.RawURLEncoding.EncodedLen(32) {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(rest)
	return err == nil
}

func (s *Server) cookie(name, value string, maxAge time.Duration) *http.Cookie {
	ck := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: strings.HasPrefix(s.publicURL, "https://")}
	if maxAge > 0 {
		ck.MaxAge = int(maxAge.Seconds())
	} else if maxAge < 0 {
		ck.MaxAge = -1
	}
	return ck
}

// page renders a page with the common data.
func (s *Server) page(c echo.Context, status int, name, title string, data any, flash, errMsg string) error {
	pd := pageData{Title: title, CSRF: s.csrfToken(c), Flash: flash, Error: errMsg, Data: data}
	if p := principal(c); p.Role != "" {
		pd.Who = s.viewerOf(c.Request().Context(), p)
	}
	var buf bytes.Buffer
	if err := templates.RenderPage(&buf, name, pd); err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

func (s *Server) viewerOf(ctx context.Context, p Principal) *viewer {
	v := &viewer{Role: p.Role, SellerID: p.SellerID}
	switch p.Role {
	case store.RoleSeller:
		if sel, err := s.store.Seller(ctx, p.SellerID); err == nil {
			v.Name = sel.Name
		}
	case store.RoleReviewer:
		if r, err := s.store.Reviewer(ctx, p.ReviewerID); err == nil {
			v.Name = r.Name
		}
	}
	return v
}

// errorPage renders an error for a person; the API's errors stay JSON.
func (s *Server) errorPage(c echo.Context, e *Error) {
	title := map[int]string{400: "Please check what you entered", 401: "Please sign in", 403: "Not allowed",
		404: "Not found", 405: "Not available this way", 408: "Too slow", 409: "That cannot be done now", 413: "Too large", 429: "Slow down"}[e.Status]
	if title == "" {
		title = "Something went wrong"
	}
	msg := e.Message
	if e.Status == http.StatusNotFound {
		msg = "There is nothing here for you. If you followed a link, it may be for another account."
	}
	if err := s.page(c, e.Status, "message", title, msg, "", ""); err != nil {
		_ = c.String(e.Status, title)
	}
}
