package models

// NonEmpty returns s as a *T, or nil when s is empty: a grouping column that was not
// selected scans as "" and is shown as null.
func NonEmpty[T ~string](s string) *T {
	if s == "" {
		return nil
	}
	v := T(s)
	return &v
}
