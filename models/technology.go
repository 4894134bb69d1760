package models

import "github.com/uptrace/bun"

// Technology labels a DataHub technology code and fuel code pair (e.g. Wind, Solar).
type Technology struct {
	bun.BaseModel `bun:"table:technologies,alias:t"`

	TechnologyCode string `bun:"technology_code,pk"`
	FuelCode       string `bun:"fuel_code,pk"`
	Label          string `bun:"label,notnull"`
}
