package account

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/originhub/originhub/models"
)

// TestBulkInsertsWriteEveryColumn keeps the array inserts in step with the models: a column
// added to models.Ggo or models.ConsumptionEntry and not to its insert would be lost on
// every part or entry a consumption run writes.
func TestBulkInsertsWriteEveryColumn(t *testing.T) {
	for _, tc := range []struct {
		name  string
		model reflect.Type
		sql   string
	}{
		{"parts", reflect.TypeFor[models.Ggo](), insertPartsSQL},
		{"entries", reflect.TypeFor[models.ConsumptionEntry](), insertEntriesSQL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want []string
			for f := range tc.model.Fields() {
				tag := strings.Split(f.Tag.Get("bun"), ",")
				if f.Anonymous || tag[0] == "" || tag[0] == "-" || slices.Contains(tag, "scanonly") {
					continue
				}
				if tag[0] == "id" || slices.ContainsFunc(tag, func(o string) bool { return strings.HasPrefix(o, "default:") }) {
					continue // the database fills these
				}
				want = append(want, tag[0])
			}
			open := strings.Index(tc.sql, "(")
			cols := strings.Split(tc.sql[open+1:strings.Index(tc.sql, ")")], ",")
			var got []string
			for _, c := range cols {
				got = append(got, strings.TrimSpace(c))
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("insert writes %v,\nthe model has %v", got, want)
			}
			// One typed array per column, in the same number.
			if n := strings.Count(tc.sql, "[]"); n != len(cols) {
				t.Fatalf("%d columns but %d arrays", len(cols), n)
			}
		})
	}
}
