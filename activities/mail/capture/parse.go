package capture

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"net/textproto"
	"strings"

	"golang.org/x/text/encoding/htmlindex"
)

// maxDepth bounds multipart nesting so a hostile message cannot recurse forever.
const maxDepth = 10

var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

func charsetReader(charset string, r io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, err
	}
	return enc.NewDecoder().Reader(r), nil
}

// decodeHeader decodes RFC 2047 words, keeping the raw value if that fails:
// an odd charset should not lose the header.
func decodeHeader(v string) string {
	d, err := wordDecoder.DecodeHeader(v)
	if err != nil {
		return v
	}
	return d
}

func parse(r io.Reader) (Message, error) {
	msg, err := netmail.ReadMessage(r)
	if err != nil {
		return Message{}, err
	}
	var m Message
	m.Headers = make(map[string]string, len(msg.Header))
	for k, vs := range msg.Header {
		if len(vs) > 0 {
			m.Headers[textproto.CanonicalMIMEHeaderKey(k)] = decodeHeader(vs[0])
		}
	}
	m.Subject = m.Headers["Subject"]
	if err := walk(textproto.MIMEHeader(msg.Header), msg.Body, &m, 0); err != nil {
		return Message{}, err
	}
	return m, nil
}

// walk fills m.Text and m.HTML with the first inline text/plain and text/html
// parts found, depth first, which covers multipart/alternative on its own or
// nested in multipart/mixed or multipart/related.
func walk(h textproto.MIMEHeader, body io.Reader, m *Message, depth int) error {
	if depth > maxDepth {
		return errors.New("multipart nesting too deep")
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		// RFC 2045 default for a missing or unparsable Content-Type.
		mt, params = "text/plain", map[string]string{"charset": "us-ascii"}
	}
	if disp, _, _ := mime.ParseMediaType(h.Get("Content-Disposition")); disp == "attachment" {
		return nil
	}
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		boundary := params["boundary"]
		if boundary == "" {
			return fmt.Errorf("%s without boundary", mt)
		}
		mr := multipart.NewReader(body, boundary)
		for {
			// NextRawPart: NextPart would decode quoted-printable itself
			// (but not base64); decoding everything in one place is simpler.
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: %w", mt, err)
			}
			if err := walk(p.Header, p, m, depth+1); err != nil {
				return err
			}
		}
	case mt == "text/plain" && m.Text == "":
		s, err := decodeBody(h, params["charset"], body)
		if err != nil {
			return err
		}
		m.Text = s
	case mt == "text/html" && m.HTML == "":
		s, err := decodeBody(h, params["charset"], body)
		if err != nil {
			return err
		}
		m.HTML = s
	}
	return nil
}

func decodeBody(h textproto.MIMEHeader, charset string, body io.Reader) (string, error) {
	switch cte := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))); cte {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body) // skips CR/LF itself
	case "", "7bit", "8bit", "binary":
	default:
		return "", fmt.Errorf("unsupported Content-Transfer-Encoding %q", cte)
	}
	switch cs := strings.ToLower(charset); cs {
	case "", "utf-8", "utf8", "us-ascii":
	default:
		// Unknown charsets keep the raw bytes rather than losing the message.
		if r, err := charsetReader(cs, body); err == nil {
			body = r
		}
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return "", err
	}
	// SMTP forces CRLF line endings; give callers back the LF text they sent.
	return strings.ReplaceAll(string(b), "\r\n", "\n"), nil
}
