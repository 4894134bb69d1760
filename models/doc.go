// Package models holds the bun models shared by the domain packages and bound into GraphQL
// with gqlgen's autobind. It imports nothing of ours.
package models
