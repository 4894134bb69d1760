package testschema

// Resolver is the root resolver of the test schema. It holds no state.
type Resolver struct{}
