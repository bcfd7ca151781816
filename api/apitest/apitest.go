// Package apitest checks HTTP answers against the API's OpenAPI document, so
// tests that drive the API also prove the document describes what it answers.
package apitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/accounthealth/accounthealth/api"
)

// Load reads api/openapi.yaml and checks it against the OpenAPI 3 rules.
func Load() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi.yaml is not a valid OpenAPI document: %w", err)
	}
	return doc, nil
}

// Validator checks answers against the document.
type Validator struct{ router routers.Router }

// NewValidator loads the document and routes requests of any host by it.
func NewValidator() (*Validator, error) {
	doc, err := Load()
	if err != nil {
		return nil, err
	}
	// The document names the default listen address; tests listen elsewhere.
	doc.Servers = nil
	r, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml routes: %w", err)
	}
	return &Validator{router: r}, nil
}

// Check tells whether the answer (status, header, body) to req is one the
// document describes: the route, the status and the body's schema. An answer
// to a path the document does not describe is an error too.
func (v *Validator) Check(req *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("%s %s is not in openapi.yaml: %w", req.Method, req.URL.Path, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true,
			// Formats (date-time) are checked too; the schema itself is left out of
			// the message, which names the failing path and why.
			SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.EnableFormatValidation(), openapi3.DisableSchemaErrorDetails()}},
	}
	if err := openapi3filter.ValidateResponse(req.Context(), in); err != nil {
		return fmt.Errorf("%s %s answered %d, which openapi.yaml does not describe: %w", req.Method, req.URL.Path, status, err)
	}
	return nil
}
