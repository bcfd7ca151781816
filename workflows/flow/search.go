package flow

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/temporal"
)

// Search attributes a case's workflow keeps up to date, so operators find cases
// in the Temporal Web UI or with `temporal workflow list --query`, e.g.
// SellerId="acme" AND CaseState="enforced". They must be registered in the
// namespace before a worker runs cases (`accounthealth temporal-setup`; dev's
// embedded server registers them itself).
var (
	SearchSellerID   = temporal.NewSearchAttributeKeyKeyword("SellerId")
	SearchCaseID     = temporal.NewSearchAttributeKeyKeyword("CaseId")
	SearchCaseState  = temporal.NewSearchAttributeKeyKeyword("CaseState")
	SearchCaseMetric = temporal.NewSearchAttributeKeyKeyword("CaseMetric") // the metric, or the violation of a policy case
	SearchCaseKind   = temporal.NewSearchAttributeKeyKeyword("CaseKind")
)

// SearchAttributes names every search attribute the workflows set, with its type.
func SearchAttributes() map[string]enums.IndexedValueType {
	m := map[string]enums.IndexedValueType{}
	for _, k := range []temporal.SearchAttributeKeyKeyword{SearchSellerID, SearchCaseID, SearchCaseState, SearchCaseMetric, SearchCaseKind} {
		m[k.GetName()] = enums.INDEXED_VALUE_TYPE_KEYWORD
	}
	return m
}

// MissingSearchAttributes lists (sorted) the search attributes the namespace lacks.
func MissingSearchAttributes(ctx context.Context, op operatorservice.OperatorServiceClient, namespace string) ([]string, error) {
	resp, err := op.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return nil, fmt.Errorf("list search attributes of namespace %s: %w", namespace, err)
	}
	var missing []string
	for name, typ := range SearchAttributes() {
		if got, ok := resp.GetCustomAttributes()[name]; !ok {
			missing = append(missing, name)
		} else if got != typ {
			return nil, fmt.Errorf("search attribute %s of namespace %s is a %s; the workflows need a %s", name, namespace, got, typ)
		}
	}
	slices.Sort(missing)
	return missing, nil
}

// EnsureSearchAttributes registers the search attributes the namespace lacks and
// returns the names it added; when none are missing it changes nothing.
func EnsureSearchAttributes(ctx context.Context, op operatorservice.OperatorServiceClient, namespace string) ([]string, error) {
	missing, err := MissingSearchAttributes(ctx, op, namespace)
	if err != nil || len(missing) == 0 {
		return nil, err
	}
	add := map[string]enums.IndexedValueType{}
	all := SearchAttributes()
	for _, name := range missing {
		add[name] = all[name]
	}
	if _, err := op.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: add}); err != nil {
		return nil, fmt.Errorf("add search attributes %s to namespace %s: %w", strings.Join(missing, ", "), namespace, err)
	}
	return missing, nil
}
