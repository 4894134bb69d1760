// Package gqlhttp serves a gqlgen schema over HTTP and WebSocket the way the
// GraphQL-over-HTTP spec (https://graphql.github.io/graphql-over-http/) asks,
// where gqlgen's own transports fall short of it.
//
// It provides:
//   - POST and GET, two graphql.Transport implementations with content
//     negotiation between application/graphql-response+json and
//     application/json, request validation with the spec's status codes, and a
//     body size limit;
//   - DepthLimit, a handler extension that refuses operations nested deeper than
//     a maximum before they execute;
//   - NewWebsocket, a graphql-transport-ws transport with keep-alive pings, an
//     origin allow-list and an auth callback whose failure closes with 4403.
//
// Wire it into a gqlgen server with AddTransports (or AddTransport in the same
// order: WebSocket, GET, POST), and mount the server on "GET /graphql" and
// "POST /graphql" so net/http answers other methods with 405 and an Allow header.
//
// Status codes, per the spec:
//
//	request                                 application/json   application/graphql-response+json
//	JSON body unreadable or wrong types      400                400
//	no query (and no persisted query)        400                400
//	parse, validation, variable coercion,
//	depth or complexity limit                200, no data       400, no data
//	executed (with or without field errors)  200 with data      200 with data
//	mutation over GET                        405, Allow: POST   405, Allow: POST
//	Content-Type not application/json        415                415
//	Accept allows neither media type         406                406
//	body larger than MaxBodyBytes            413                413
package gqlhttp
