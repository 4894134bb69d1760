package models

import (
	"time"

	"github.com/uptrace/bun"
)

// User is an account holder, known by the subject of their tokens.
type User struct {
	bun.BaseModel `bun:"table:users,alias:u"`

	ID        int64     `bun:"id,pk,autoincrement"`
	Subject   string    `bun:"subject,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull,default:current_timestamp"`
}
