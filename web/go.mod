// This module boundary keeps the Go tool out of web/ (npm packages sometimes ship .go files).
module github.com/originhub/originhub/web

go 1.26
