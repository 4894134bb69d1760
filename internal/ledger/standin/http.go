package standin

import (
	"bytes"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/originhub/originhub/internal/ledger"
)

// restError is one of the Sawtooth REST API's fixed error answers (spec 8.4).
type restError struct {
	status  int
	code    int
	title   string
	message string
}

var (
	errSubmittedInvalid = restError{400, 30, "Submitted Batches Invalid", "The submitted BatchList was rejected by the validator. It was poorly formed, or has an invalid signature."}
	errNoBatches        = restError{400, 34, "No Batches Submitted", "The protobuf BatchList you submitted was empty and contained no Batches. You must submit at least one Batch."}
	errBadProtobuf      = restError{400, 35, "Protobuf Not Decodable", "The protobuf BatchList you submitted was malformed and could not be read."}
	errContentType      = restError{400, 42, "Wrong Content Type", "Batches must be submitted in a BatchList protobuf binary, with a 'Content-Type' header of 'application/octet-stream'."}
	errResourceID       = restError{400, 60, "Invalid Resource Id", "Blockchain items are identified by 128 character hex-strings. A submitted block, batch, or transaction id was invalid: "}
	errStateAddress     = restError{400, 62, "Invalid State Address", "The state address submitted was invalid. To fetch specific state data, you must submit the full 70-character address."}
	errIDQuery          = restError{400, 66, "Id Query Invalid or Missing", "Requests for batch statuses sent as a GET request must have an 'id' query parameter with a comma-separated list of at least one batch id."}
	errBlockNotFound    = restError{404, 70, "Block Not Found", "There is no block with the id specified in the blockchain."}
	errStateNotFound    = restError{404, 75, "State Not Found", "There is no state data at the address specified."}
	errQueueFull        = restError{429, 31, "Unable to Accept Batches", "The validator cannot currently accept more batches, due to a full queue.  Please submit your request again."}
	errUnknown          = restError{500, 10, "Unknown Validator Error", "An unknown error occurred with the validator while processing your request. Your request may or may not have been processed."}
)

var idRe = regexp.MustCompile(`^[0-9a-f]{128}$`)

// Handler serves the REST API relative to where it is mounted (use
// http.StripPrefix); links in answers include the mount prefix, since
// clients follow them verbatim.
func (l *Ledger) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /batches", l.postBatches)
	mux.HandleFunc("GET /batch_statuses", l.getStatuses)
	mux.HandleFunc("POST /batch_statuses", l.postStatuses)
	mux.HandleFunc("GET /state/{address}", l.getState)
	return mux
}

func (l *Ledger) postBatches(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Content-Type") != "application/octet-stream" {
		writeError(w, errContentType, "")
		return
	}
	if l.opts.MaxPending > 0 {
		n, err := l.pendingCount(r.Context())
		if err != nil {
			l.opts.Logger.Error("ledger stand-in could not count pending batches", "error", err)
			writeError(w, errUnknown, "")
			return
		}
		if n >= l.opts.MaxPending {
			writeError(w, errQueueFull, "")
			return
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, l.opts.MaxBodyBytes))
	if err != nil {
		writeError(w, errBadProtobuf, "")
		return
	}
	list, err := ledger.UnmarshalBatchList(body)
	if err != nil {
		writeError(w, errBadProtobuf, "")
		return
	}
	if len(list) == 0 {
		writeError(w, errNoBatches, "")
		return
	}
	ids := make([]string, len(list))
	bodies := make([][]byte, len(list))
	for i := range list {
		if err := CheckBatch(&list[i]); err != nil {
			l.opts.Logger.Info("ledger stand-in rejected batch", "reason", err.Error())
			writeError(w, errSubmittedInvalid, "")
			return
		}
		ids[i] = list[i].HeaderSignature
		bodies[i] = ledger.MarshalBatchList(list[i].Marshal())
	}
	if err := l.insertBatches(r.Context(), ids, bodies); err != nil {
		l.opts.Logger.Error("ledger stand-in could not queue batches", "error", err)
		writeError(w, errUnknown, "")
		return
	}
	l.signal()
	writeJSON(w, http.StatusAccepted, struct {
		Link string `json:"link"`
	}{baseURL(r) + "/batch_statuses?id=" + strings.Join(ids, ",")})
}

// CheckBatch applies the validator's submission checks (spec 9.1) to one
// batch: both kinds of signature (low-S enforced), payload hashes, batcher
// keys and the transaction id list.
func CheckBatch(b *ledger.BatchMessage) error {
	h, err := ledger.UnmarshalBatchHeader(b.HeaderBytes)
	if err != nil {
		return err
	}
	if err := ledger.VerifyHex(h.SignerPublicKey, b.HeaderBytes, b.HeaderSignature); err != nil {
		return errors.New("batch signature: " + err.Error())
	}
	if len(h.TransactionIDs) != len(b.Transactions) {
		return errors.New("transaction count differs from the header's ids")
	}
	seen := make(map[string]bool, len(h.TransactionIDs))
	for i, t := range b.Transactions {
		if seen[h.TransactionIDs[i]] {
			return errors.New("duplicate transaction id")
		}
		seen[h.TransactionIDs[i]] = true
		if t.HeaderSignature != h.TransactionIDs[i] {
			return errors.New("transaction id differs from the header's")
		}
		th, err := ledger.UnmarshalTransactionHeader(t.HeaderBytes)
		if err != nil {
			return err
		}
		if err := ledger.VerifyHex(th.SignerPublicKey, t.HeaderBytes, t.HeaderSignature); err != nil {
			return errors.New("transaction signature: " + err.Error())
		}
		if th.BatcherPublicKey != h.SignerPublicKey {
			return errors.New("transaction batcher key differs from the batch signer")
		}
		sum := sha512Hex(t.Payload)
		if th.PayloadSHA512 != sum {
			return errors.New("payload hash differs")
		}
		for _, d := range th.Dependencies {
			if d == "" {
				return errors.New("empty dependency")
			}
		}
	}
	return nil
}

func (l *Ledger) getStatuses(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("id")
	if q == "" {
		writeError(w, errIDQuery, "")
		return
	}
	l.answerStatuses(w, r, strings.Split(q, ","))
}

func (l *Ledger) postStatuses(w http.ResponseWriter, r *http.Request) {
	var ids []string
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&ids); err != nil || len(ids) == 0 {
		writeError(w, errIDQuery, "")
		return
	}
	l.answerStatuses(w, r, ids)
}

type statusEntry struct {
	ID                  string       `json:"id"`
	InvalidTransactions []invalidTxn `json:"invalid_transactions"`
	Status              string       `json:"status"`
}

type invalidTxn struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

func (l *Ledger) answerStatuses(w http.ResponseWriter, r *http.Request, ids []string) {
	for _, id := range ids {
		if !idRe.MatchString(id) {
			writeError(w, errResourceID, id)
			return
		}
	}
	found, err := l.statuses(r.Context(), ids)
	if err != nil {
		l.opts.Logger.Error("ledger stand-in could not read statuses", "error", err)
		writeError(w, errUnknown, "")
		return
	}
	data := make([]statusEntry, len(ids))
	for i, id := range ids {
		e := statusEntry{ID: id, InvalidTransactions: []invalidTxn{}, Status: "UNKNOWN"}
		if s, ok := found[id]; ok {
			e.Status = s.status
			if s.status == "INVALID" {
				e.InvalidTransactions = []invalidTxn{{ID: s.txID, Message: s.message}}
			}
		}
		data[i] = e
	}
	writeJSON(w, http.StatusOK, struct {
		Data []statusEntry `json:"data"`
		Link string        `json:"link"`
	}{data, requestURL(r)})
}

func (l *Ledger) getState(w http.ResponseWriter, r *http.Request) {
	addr := r.PathValue("address")
	if !ledger.IsAddressFormat(addr) {
		writeError(w, errStateAddress, "")
		return
	}
	head, err := l.head(r.Context())
	if err != nil {
		l.opts.Logger.Error("ledger stand-in could not read head", "error", err)
		writeError(w, errUnknown, "")
		return
	}
	// Only the newest state is kept: an older head is accepted but read at
	// the newest block, which is what a client polling forward observes.
	if h := r.URL.Query().Get("head"); h != "" && h != head {
		ok, err := l.blockExists(r.Context(), h)
		if err != nil || !ok {
			writeError(w, errBlockNotFound, "")
			return
		}
	}
	data, err := l.readState(r.Context(), addr)
	if err != nil {
		l.opts.Logger.Error("ledger stand-in could not read state", "error", err)
		writeError(w, errUnknown, "")
		return
	}
	if len(data) == 0 {
		writeError(w, errStateNotFound, "")
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Data string `json:"data"`
		Head string `json:"head"`
		Link string `json:"link"`
	}{base64.StdEncoding.EncodeToString(data), head, baseURL(r) + "/state/" + addr + "?head=" + head})
}

// baseURL is scheme://host plus the mount prefix, honouring the forwarding
// headers the REST API honours.
func baseURL(r *http.Request) string {
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if fwd := r.Header.Get("Forwarded"); fwd != "" {
		for _, part := range strings.Split(strings.Split(fwd, ",")[0], ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			v = strings.Trim(v, `"`)
			switch strings.ToLower(k) {
			case "proto":
				scheme = v
			case "host":
				host = v
			}
		}
	}
	if v := r.Header.Get("X-Forwarded-Proto"); v != "" {
		scheme = v
	}
	if v := r.Header.Get("X-Forwarded-Host"); v != "" {
		host = v
	}
	return scheme + "://" + host + r.Header.Get("X-Forwarded-Path") + mountPrefix(r)
}

// mountPrefix recovers what http.StripPrefix removed: the original request
// path minus the path this handler sees.
func mountPrefix(r *http.Request) string {
	orig := r.RequestURI
	if i := strings.IndexByte(orig, '?'); i >= 0 {
		orig = orig[:i]
	}
	if u := r.URL.EscapedPath(); strings.HasSuffix(orig, u) {
		return strings.TrimSuffix(orig, u)
	}
	return ""
}

func requestURL(r *http.Request) string {
	u := baseURL(r) + r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		u += "?" + r.URL.RawQuery
	}
	return u
}

func writeError(w http.ResponseWriter, e restError, suffix string) {
	type body struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Title   string `json:"title"`
	}
	writeJSON(w, e.status, struct {
		Error body `json:"error"`
	}{body{e.code, e.message + suffix, e.title}})
}

// writeJSON writes v as the REST API does (Python json.dumps with indent=2,
// sorted keys, ASCII only); struct fields are declared in sorted order.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		http.Error(w, "encode response", http.StatusInternalServerError)
		return
	}
	out := asciiEscape(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

// asciiEscape rewrites non-ASCII runes (which only occur inside strings) as
// \uXXXX escapes, as Python's ensure_ascii does.
func asciiEscape(b []byte) []byte {
	if !bytes.ContainsFunc(b, func(r rune) bool { return r >= utf8.RuneSelf }) {
		return b
	}
	var out []byte
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r < utf8.RuneSelf {
			out = append(out, b[0])
		} else {
			out = append(out, escapeOf(r)...)
		}
		b = b[n:]
	}
	return out
}

func escapeOf(r rune) string {
	s := string(ledger.AppendPyString(nil, string(r)))
	return s[1 : len(s)-1]
}

func sha512Hex(b []byte) string {
	s := sha512.Sum512(b)
	return hex.EncodeToString(s[:])
}
