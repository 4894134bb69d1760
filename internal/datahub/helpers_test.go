package datahub_test

import "github.com/originhub/originhub/internal/relay"

func relayFirst(n int) relay.Args { return relay.Args{First: &n} }
