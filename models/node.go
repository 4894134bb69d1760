package models

// Node is implemented by every model exposed through the GraphQL Node interface. Global IDs
// are computed by resolvers (internal/relay), not stored.
type Node interface{ IsNode() }

// IsNode marks User as a Node.
func (User) IsNode() {}

// IsNode marks LedgerBatch as a Node.
func (LedgerBatch) IsNode() {}
