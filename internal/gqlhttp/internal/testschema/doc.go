// Package testschema is a tiny executable GraphQL schema used only to test the
// gqlhttp transports and to run the GraphQL-over-HTTP audit against them. It has
// a query, a mutation, a subscription and a field that always fails.
package testschema

//go:generate go tool gqlgen generate
