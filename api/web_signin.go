package api

import (
	"context"
	"fmt"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	amail "github.com/accounthealth/accounthealth/activities/mail"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/templates"
)

// Mailer sends a message (sign-in links).
type Mailer interface {
	Send(ctx context.Context, m amail.Message) error
}

func (s *Server) signinForm(c echo.Context) error {
	if principal(c).Role != "" {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return s.page(c, http.StatusOK, "signin", "Sign in", "", "", "")
}

// signinRequest mails a one-time link to every account with the address. The
// answer is the same whether or not one exists, and comes before the mail is
// sent, so neither the words nor the timing tell who has an account: the
// limits count requests per address, accounts or not.
func (s *Server) signinRequest(c echo.Context) error {
	email := strings.ToLower(strings.TrimSpace(c.FormValue("email")))
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
		return s.page(c, http.StatusBadRequest, "signin", "Sign in", email, "", "That is not an email address; please check it.")
	}
	verdict, err := s.store.RequestSignin(c.Request().Context(), email, c.RealIP(), time.Now(), signinLimits)
	if err != nil {
		return err
	}
	wait := fmt.Sprintf("Sign-in links work for %d minutes: use the newest one you have, or ask again later.", int(loginTokenTTL.Minutes()))
	switch verdict {
	case store.SigninClientLimited:
		return s.page(c, http.StatusTooManyRequests, "message", "Slow down", fmt.Sprintf(
			"Sign-in links for %s were asked for %d times from here in the last %d minutes. %s",
			email, signinLimits.PerClient, int(signinLimits.Window.Minutes()), wait), "", "")
	case store.SigninAddressLimited:
		return s.page(c, http.StatusTooManyRequests, "message", "Slow down", fmt.Sprintf(
			"Sign-in links for %s were asked for %d times in the last %d minutes, from several places. %s",
			email, signinLimits.PerAddress, int(signinLimits.Window.Minutes()), wait), "", "")
	}
	go s.sendSigninLinks(email)
	return s.page(c, http.StatusOK, "message", "Check your email",
		"If an account uses "+email+", we have sent it a sign-in link. It works once, for 15 minutes.", "", "")
}

// sendSigninLinks mails each account with the address its own link, so two
// accounts sharing an address each get theirs.
func (s *Server) sendSigninLinks(email string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	now := time.Now().UTC()
	people, err := s.store.PeopleByEmail(ctx, email)
	if err != nil {
		s.log.Error("sign-in lookup", "err", err)
		return
	}
	for _, p := range people {
		token := NewKey("ahl")
		t := store.LoginToken{TokenHash: HashKey(token), Email: email, Role: p.Role, CreatedAt: now, ExpiresAt: now.Add(loginTokenTTL)}
		if p.SellerID != "" {
			t.SellerID = &p.SellerID
		}
		if p.ReviewerID != "" {
			t.ReviewerID = &p.ReviewerID
		}
		if err := s.store.CreateLoginToken(ctx, t); err != nil {
			s.log.Error("sign-in token", "err", err)
			return
		}
		m, err := templates.Render(templates.SignIn, templates.MailData{SellerName: p.Name, CaseURL: s.publicURL + "/signin/" + token})
		if err != nil {
			s.log.Error("sign-in mail", "err", err)
			return
		}
		if err := s.mailer.Send(ctx, amail.Message{Key: "signin/" + t.TokenHash, To: []string{p.Email}, Subject: m.Subject, Text: m.Text, HTML: m.HTML}); err != nil {
			s.log.Error("send sign-in mail", "err", err)
		}
	}
}

// signinConfirm asks for a press of a button: opening the link does not use it,
// so a mail scanner that fetches links cannot spend it.
func (s *Server) signinConfirm(c echo.Context) error {
	return s.page(c, http.StatusOK, "signin_confirm", "Sign in", c.Param("token"), "", "")
}

func (s *Server) signinComplete(c echo.Context) error {
	ctx := c.Request().Context()
	t, err := s.store.UseLoginToken(ctx, HashKey(c.Param("token")), time.Now().UTC())
	if err == store.ErrTokenInvalid {
		return s.page(c, http.StatusBadRequest, "message", "This link no longer works",
			"Sign-in links work once, for 15 minutes. Ask for a new one on the sign-in page.", "", "")
	}
	if err != nil {
		return err
	}
	id := NewKey("ahsess")
	now := time.Now().UTC()
	sess := store.Session{IDHash: HashKey(id), Role: t.Role, SellerID: t.SellerID, ReviewerID: t.ReviewerID,
		CSRF: NewKey("csrf"), CreatedAt: now, ExpiresAt: now.Add(sessionTTL)}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return err
	}
	c.SetCookie(s.cookie(sessionCookie, id, sessionTTL))
	c.SetCookie(s.cookie(csrfCookie, "", -1))
	if t.Role == store.RoleReviewer {
		return c.Redirect(http.StatusSeeOther, "/review")
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

func (s *Server) signout(c echo.Context) error {
	if ck, err := c.Cookie(sessionCookie); err == nil {
		if err := s.store.DeleteSession(c.Request().Context(), HashKey(ck.Value)); err != nil {
			return err
		}
	}
	c.SetCookie(s.cookie(sessionCookie, "", -1))
	return c.Redirect(http.StatusSeeOther, "/signin")
}
