package api

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/accounthealth/accounthealth/store"
)

// pageOf reads a list's `limit` and `cursor`; def is the list's default size
// (an existing list keeps the size it always answered, new lists take 100).
func pageOf(c echo.Context, def int) (store.Page, error) {
	p := store.Page{Limit: def}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxPage {
			return p, invalid("bad limit", map[string]string{"limit": fmt.Sprintf("must be a whole number from 1 to %d", store.MaxPage)})
		}
		p.Limit = n
	}
	if v := c.QueryParam("cursor"); v != "" {
		cur, ok := decodeCursor(v)
		if !ok {
			return p, invalid("bad cursor", map[string]string{"cursor": "must be a next_cursor this list answered"})
		}
		p.After = &cur
	}
	return p, nil
}

// Cursors are opaque to clients: the last row's key, as JSON in URL-safe base64.
func decodeCursor(s string) (store.Cursor, bool) {
	var cur store.Cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &cur) != nil || cur.ID == "" || cur.At < 0 {
		return cur, false
	}
	return cur, true
}

// nextCursor is the `next_cursor` of an answer: null after the last page.
func nextCursor(c *store.Cursor) *string {
	if c == nil {
		return nil
	}
	b, _ := json.Marshal(c) // a struct of an int and a string always marshals
	s := base64.RawURLEncoding.EncodeToString(b)
	return &s
}
