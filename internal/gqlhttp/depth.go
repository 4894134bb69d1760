package gqlhttp

import (
	"context"
	"errors"
	"fmt"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/99designs/gqlgen/graphql"
)

// CodeBadUserInput is the extensions.code of an operation refused by DepthLimit.
const CodeBadUserInput = "BAD_USER_INPUT"

// DepthLimit is a gqlgen handler extension that refuses an operation whose
// selections nest deeper than Max, after validation and before any resolver
// runs. Depth counts fields: `{ a }` is 1 and `{ a { b } }` is 2. Fragment
// spreads and inline fragments add no level of their own; their fields count
// where they are spread.
//
// Introspection fields (__schema, __type) are not counted: the standard
// introspection query that GraphiQL and code generators send is about 13
// levels deep through ofType chains, and its cost is bounded by the schema, not
// by the data. gqlparser's MaxIntrospectionDepth validation rule (one of the
// default rules) already caps how deep introspection's list fields nest, and an
// ofType chain ends where the type does.
//
// The refusal is a GraphQL error with extensions.code BAD_USER_INPUT and the
// response has no data, so it is a request error: 400 under
// application/graphql-response+json, 200 under application/json.
type DepthLimit struct {
	// Max is the deepest nesting allowed; it must be positive.
	Max int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = DepthLimit{}

// ExtensionName names the extension in gqlgen's stats and logs.
func (d DepthLimit) ExtensionName() string { return "DepthLimit" }

// Validate refuses a non-positive Max when the extension is added to a server.
func (d DepthLimit) Validate(graphql.ExecutableSchema) error {
	if d.Max <= 0 {
		return errors.New("depth limit: Max must be positive")
	}
	return nil
}

// MutateOperationContext measures the operation's depth and refuses it when
// it exceeds Max.
func (d DepthLimit) MutateOperationContext(
	_ context.Context,
	opCtx *graphql.OperationContext,
) *gqlerror.Error {
	depth := OperationDepth(opCtx.Doc, opCtx.Operation)
	if depth <= d.Max {
		return nil
	}
	return &gqlerror.Error{
		Message: fmt.Sprintf("operation has depth %d, which exceeds the limit of %d", depth, d.Max),
		Extensions: map[string]any{
			"code":  CodeBadUserInput,
			"depth": depth,
			"limit": d.Max,
		},
	}
}

// OperationDepth returns how deep the fields of op nest, following fragment
// spreads from doc. Introspection fields are not counted (see DepthLimit).
// A fragment that spreads itself, directly or through others, is invalid and
// rejected by validation; here such a cycle is cut so that the walk ends.
func OperationDepth(doc *ast.QueryDocument, op *ast.OperationDefinition) int {
	if op == nil {
		return 0
	}
	w := depthWalker{
		doc:      doc,
		memo:     map[string]int{},
		visiting: map[string]bool{},
	}
	return w.selectionSet(op.SelectionSet)
}

// depthWalker measures selection sets. memo keeps each fragment's depth, so
// that a fragment spread many times is walked once and a document cannot make
// the walk exponential.
type depthWalker struct {
	doc      *ast.QueryDocument
	memo     map[string]int
	visiting map[string]bool
}

func (w *depthWalker) selectionSet(set ast.SelectionSet) int {
	deepest := 0
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				continue
			}
			d = 1 + w.selectionSet(s.SelectionSet)
		case *ast.InlineFragment:
			d = w.selectionSet(s.SelectionSet)
		case *ast.FragmentSpread:
			d = w.fragment(s.Name)
		}
		deepest = max(deepest, d)
	}
	return deepest
}

func (w *depthWalker) fragment(name string) int {
	if d, ok := w.memo[name]; ok {
		return d
	}
	if w.visiting[name] || w.doc == nil {
		return 0
	}
	def := w.doc.Fragments.ForName(name)
	if def == nil {
		return 0
	}
	w.visiting[name] = true
	d := w.selectionSet(def.SelectionSet)
	delete(w.visiting, name)
	w.memo[name] = d
	return d
}
