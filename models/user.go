package models

import (
	"time"

	"github.com/uptrace/bun"
)

// User is an account holder, known by the subject of their tokens.
type User struct {
	bun.BaseModel `bun:"table:users,alias:u"`

	ID      int64  `bun:"id,pk,autoincrement"`
	Subject string `bun:"subject,notnull"`
	// AccountReference is what others use to send this user GGOs.
	AccountReference string `bun:"account_reference,nullzero"`
	// Name and Company are what counterparts find the user by.
	Name      string    `bun:"name,notnull,default:''"`
	Company   string    `bun:"company,notnull,default:''"`
	CreatedAt time.Time `bun:"created_at,notnull,default:current_timestamp"`
}
