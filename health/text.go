package health

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// TextProblem says what makes s unfit to store as text, or "" when it is fit:
// it must be valid UTF-8 and hold no NUL or other control character, except
// newlines and tabs in free text (what a person writes: a plan, a message, a
// note). Every input path checks its text with it, so bad bytes are refused
// at the edge, with the field named, on every database alike.
func TextProblem(s string, freeText bool) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8 text"
	}
	for _, r := range s {
		if r == '\n' || r == '\t' {
			if freeText {
				continue
			}
		} else if !unicode.IsControl(r) && r != '\u2028' && r != '\u2029' {
			continue
		}
		if freeText {
			return fmt.Sprintf("must not contain control characters (found %U); newlines and tabs are fine", r)
		}
		return fmt.Sprintf("must not contain control characters (found %U)", r)
	}
	return ""
}

// NormalizeNewlines turns CRLF and lone CR line breaks (as browsers send a
// textarea's) into LF.
func NormalizeNewlines(s string) string {
	if !strings.ContainsRune(s, '\r') {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// Length counts the characters a person sees (grapheme clusters): an accented
// letter written with a combining mark, or an emoji with modifiers, is one.
func Length(s string) int { return uniseg.GraphemeClusterCount(s) }

// JSONTextProblem is TextProblem for a JSON string: s as decoded, raw as sent.
// encoding/json turns bytes that are not UTF-8, and escaped lone surrogates
// (\ud800), into U+FFFD without a word; judged as sent, they are not text.
func JSONTextProblem(raw []byte, s string, freeText bool) string {
	if !utf8.Valid(raw) {
		return "must be valid UTF-8 text"
	}
	if strings.ContainsRune(s, utf8.RuneError) && strings.Count(s, string(utf8.RuneError)) >
		strings.Count(string(raw), string(utf8.RuneError))+strings.Count(strings.ToLower(string(raw)), `\ufffd`) {
		return "must be valid Unicode text (it holds a lone surrogate)"
	}
	return TextProblem(s, freeText)
}
