package api

import (
	"crypto/subtle"
	"errors"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/accounthealth/accounthealth/app"
	"github.com/accounthealth/accounthealth/store"
)

// Principal is who is calling.
type Principal = app.Principal

const principalKey = "principal"

// NewKey and HashKey make and hash secrets (app.NewKey, app.HashKey).
var (
	NewKey  = app.NewKey
	HashKey = app.HashKey
)

// authenticate resolves the bearer key to a principal, or answers 401.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		key, ok := strings.CutPrefix(h, "Bearer ")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return errUnauthorized
		}
		hash := HashKey(key)
		if subtle.ConstantTimeCompare([]byte(hash), []byte(s.adminKeyHash)) == 1 {
			c.Set(principalKey, Principal{Role: store.RoleAdmin})
			return next(c)
		}
		k, err := s.store.KeyByHash(c.Request().Context(), hash)
		if errors.Is(err, store.ErrNotFound) {
			return errUnauthorized
		}
		if err != nil {
			return err
		}
		c.Set(principalKey, principalOf(k.Role, k.SellerID, k.ReviewerID))
		return next(c)
	}
}

// principalOf is the one way a key or a session becomes a principal.
func principalOf(role store.Role, sellerID, reviewerID *string) Principal {
	p := Principal{Role: role}
	if sellerID != nil {
		p.SellerID = *sellerID
	}
	if reviewerID != nil {
		p.ReviewerID = *reviewerID
	}
	return p
}

func principal(c echo.Context) Principal {
	p, _ := c.Get(principalKey).(Principal)
	return p
}

// allow lets only the given roles through.
func allow(roles ...store.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := principal(c)
			for _, r := range roles {
				if p.Role == r {
					return next(c)
				}
			}
			return errForbidden
		}
	}
}
