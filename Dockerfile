# Multi-stage build of the one originhub binary; the same image runs every role.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/originhub .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/originhub /originhub
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/originhub"]
CMD ["serve"]
