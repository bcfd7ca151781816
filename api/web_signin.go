package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/accounthealth/accounthealth/app"
	"github.com/accounthealth/accounthealth/app/signin"
	"github.com/accounthealth/accounthealth/store"
)

// Mailer sends a message (sign-in links).
type Mailer = signin.Mailer

func (s *Server) signinForm(c echo.Context) error {
	if principal(c).Role != "" {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return s.page(c, http.StatusOK, "signin", "Sign in", "", "", "")
}

// signinRequest asks for one-time links for the address; the answer is the same
// whether or not an account has it.
func (s *Server) signinRequest(c echo.Context) error {
	email, err := s.signin.Request(c.Request().Context(), c.FormValue("email"), c.RealIP())
	var invalid *app.Error
	var limited *signin.Limited
	switch {
	case errors.As(err, &invalid):
		return s.page(c, http.StatusBadRequest, "signin", "Sign in", email, "", invalid.Message)
	case errors.As(err, &limited):
		return s.page(c, http.StatusTooManyRequests, "message", "Slow down", limited.Message, "", "")
	case err != nil:
		return err
	}
	return s.page(c, http.StatusOK, "message", "Check your email",
		"If an account uses "+email+", we have sent it a sign-in link. It works once, for 15 minutes.", "", "")
}

// signinConfirm asks for a press of a button: opening the link does not use it,
// so a mail scanner that fetches links cannot spend it.
func (s *Server) signinConfirm(c echo.Context) error {
	return s.page(c, http.StatusOK, "signin_confirm", "Sign in", c.Param("token"), "", "")
}

func (s *Server) signinComplete(c echo.Context) error {
	sess, id, err := s.signin.Complete(c.Request().Context(), c.Param("token"))
	if errors.Is(err, signin.ErrLinkSpent) {
		return s.page(c, http.StatusBadRequest, "message", "This link no longer works",
			"Sign-in links work once, for 15 minutes. Ask for a new one on the sign-in page.", "", "")
	}
	if err != nil {
		return err
	}
	c.SetCookie(s.cookie(sessionCookie, id, signin.SessionTTL))
	c.SetCookie(s.cookie(csrfCookie, "", -1))
	if sess.Role == store.RoleReviewer {
		return c.Redirect(http.StatusSeeOther, "/review")
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

func (s *Server) signout(c echo.Context) error {
	if ck, err := c.Cookie(sessionCookie); err == nil {
		if err := s.signin.SignOut(c.Request().Context(), ck.Value); err != nil {
			return err
		}
	}
	c.SetCookie(s.cookie(sessionCookie, "", -1))
	return c.Redirect(http.StatusSeeOther, "/signin")
}
