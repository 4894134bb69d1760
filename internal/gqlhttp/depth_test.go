package gqlhttp_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/originhub/originhub/internal/gqlhttp"
	"github.com/originhub/originhub/internal/gqlhttp/internal/testschema"
)

// nestedQuery returns a query whose fields nest depth levels deep:
// depth 1 is { __typename }, depth 2 is { nested { level } }, and so on.
func nestedQuery(depth int) string {
	if depth == 1 {
		return "{ __typename }"
	}
	return "{ nested " + strings.Repeat("{ child ", depth-2) + "{ level }" + strings.Repeat(" }", depth-2) + " }"
}

func TestOperationDepth(t *testing.T) {
	schema := testschema.New().Schema()
	tests := []struct {
		name  string
		query string
		want  int
	}{
		{name: "one field", query: "{ __typename }", want: 1},
		{name: "nested", query: nestedQuery(4), want: 4},
		{name: "deepest branch counts", query: "{ hello nested { level child { child { level } } } }", want: 4},
		{name: "inline fragment adds no level", query: "{ nested { ... on Nested { child { level } } } }", want: 3},
		{name: "named fragment counts where spread",
			query: "query { nested { child { ...F } } } fragment F on Nested { child { level } }", want: 4},
		{name: "fragment inside fragment",
			query: "query { nested { ...A } } fragment A on Nested { child { ...B } } fragment B on Nested { child { level } }", want: 4},
		{name: "same fragment spread twice",
			query: "query { nested { ...F child { ...F } } } fragment F on Nested { child { level } }", want: 4},
		{name: "introspection not counted",
			query: "{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }", want: 0},
		{name: "introspection next to data",
			query: `{ __type(name: "Nested") { fields { type { name } } } nested { level } }`, want: 2},
		{name: "picks the named operation",
			query: "query A { __typename } query B { nested { child { level } } }", want: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, errs := gqlparser.LoadQuery(schema, tc.query)
			if errs != nil {
				t.Fatalf("load query: %v", errs)
			}
			op := doc.Operations[len(doc.Operations)-1]
			if got := gqlhttp.OperationDepth(doc, op); got != tc.want {
				t.Errorf("OperationDepth() = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestOperationDepthFragmentCycle uses an unvalidated document, since
// validation rejects fragment cycles: the walk must still end.
func TestOperationDepthFragmentCycle(t *testing.T) {
	doc, err := parser.ParseQuery(&ast.Source{Input: `
		query { nested { ...A } }
		fragment A on Nested { child { ...B } }
		fragment B on Nested { child { ...A } }
		fragment C on Nested { ...C }`})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if got := gqlhttp.OperationDepth(doc, doc.Operations[0]); got != 3 {
		t.Errorf("OperationDepth() = %d, want 3 (nested, A's child, B's child; the cycle is cut)", got)
	}
	if got := gqlhttp.OperationDepth(doc, nil); got != 0 {
		t.Errorf("OperationDepth(nil operation) = %d, want 0", got)
	}
}

func TestDepthLimitValidate(t *testing.T) {
	for _, max := range []int{0, -1} {
		if err := (gqlhttp.DepthLimit{Max: max}).Validate(nil); err == nil {
			t.Errorf("DepthLimit{Max: %d}.Validate() = nil, want an error", max)
		}
	}
	if err := (gqlhttp.DepthLimit{Max: 1}).Validate(nil); err != nil {
		t.Errorf("DepthLimit{Max: 1}.Validate() = %v, want nil", err)
	}
}

func TestDepthLimitOverHTTP(t *testing.T) {
	h := newHandler(t, gqlhttp.Options{}, gqlhttp.WebsocketOptions{})
	tooDeep := fmt.Sprintf("operation has depth %d, which exceeds the limit of %d", testDepth+1, testDepth)
	tests := []struct {
		name       string
		query      string
		accept     string
		wantStatus int
		wantErr    string
	}{
		{name: "at the limit", query: nestedQuery(testDepth), accept: gr, wantStatus: 200},
		{name: "over, graphql-response", query: nestedQuery(testDepth + 1), accept: gr, wantStatus: 400, wantErr: tooDeep},
		{name: "over, json", query: nestedQuery(testDepth + 1), accept: js, wantStatus: 200, wantErr: tooDeep},
		{name: "over through a fragment", accept: gr, wantStatus: 400, wantErr: tooDeep,
			query: "query { nested { child { ...F } } } fragment F on Nested { child { child { child { level } } } }"},
		{name: "deep introspection allowed", accept: gr, wantStatus: 200,
			query: `{ __type(name: "Nested") { fields { type { ofType { ofType { ofType { name } } } } } } }`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := do(t, h, post(fmt.Sprintf(`{"query":%q}`, tc.query), tc.accept))
			if got.status != tc.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", got.status, tc.wantStatus, got.body)
			}
			msgs, codes := got.errors(t)
			if tc.wantErr == "" {
				if len(msgs) != 0 || !got.hasData() {
					t.Fatalf("body = %s, want data and no errors", got.body)
				}
				return
			}
			if got.hasData() {
				t.Errorf("data = %s, want no data entry: nothing may execute", got.data())
			}
			if len(msgs) != 1 || msgs[0] != tc.wantErr || codes[0] != gqlhttp.CodeBadUserInput {
				t.Errorf("errors = %q codes %q, want [%q] with code %s", msgs, codes, tc.wantErr, gqlhttp.CodeBadUserInput)
			}
		})
	}
}
