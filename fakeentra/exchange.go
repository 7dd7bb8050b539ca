package fakeentra

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// maxBody bounds a (decompressed) request body.
const maxBody = 4 << 20

// odataJSON is the Content-Type Graph puts on its JSON payloads.
const odataJSON = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// exchange is one request being served.
type exchange struct {
	s               *Server
	w               http.ResponseWriter
	r               *http.Request
	op              string
	args            []string
	requestID       string
	clientRequestID string
	status          int
	started         time.Time
}

// newExchange prepares an exchange and sets the correlation headers that
// Entra and Graph put on every response.
func (s *Server) newExchange(w http.ResponseWriter, r *http.Request, rt routeInfo) *exchange {
	x := &exchange{s: s, w: w, r: r, op: rt.op, args: rt.args, requestID: uuid.NewString(), started: time.Now()}
	x.clientRequestID = r.Header.Get("client-request-id")
	if x.clientRequestID == "" {
		x.clientRequestID = x.requestID
	}
	h := w.Header()
	if rt.op == OpToken || rt.op == OpDiscovery {
		h.Set("x-ms-request-id", x.requestID)
	} else {
		h.Set("request-id", x.requestID)
	}
	h.Set("client-request-id", x.clientRequestID)
	return x
}

// record appends the finished exchange to the call log.
func (x *exchange) record() {
	s := x.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, Call{
		Op: x.op, Method: x.r.Method, Path: x.r.URL.Path, RawQuery: x.r.URL.RawQuery,
		At: s.now(), Status: x.status, Duration: time.Since(x.started),
		RequestID: x.requestID, ClientRequestID: x.clientRequestID,
	})
	s.counts[x.op]++
}

var bufPool = sync.Pool{New: func() any { return bufio.NewWriterSize(io.Discard, 32<<10) }}

// stream writes a JSON response produced by fn straight to the client.
func (x *exchange) stream(status int, fn func(b *bufio.Writer)) {
	x.w.Header().Set("Content-Type", odataJSON)
	x.status = status
	x.w.WriteHeader(status)
	b := bufPool.Get().(*bufio.Writer)
	b.Reset(x.w)
	fn(b)
	_ = b.Flush() // the client may have gone; nothing to do about it
	b.Reset(io.Discard)
	bufPool.Put(b)
}

// object writes a single JSON object response.
func (x *exchange) object(status int, fn func(o *objWriter)) {
	x.stream(status, func(b *bufio.Writer) {
		o := beginObj(b)
		fn(&o)
		o.end()
	})
}

// noContent answers 204.
func (x *exchange) noContent() {
	x.status = http.StatusNoContent
	x.w.WriteHeader(http.StatusNoContent)
}

// graphError answers with Graph's error shape.
func (x *exchange) graphError(status int, code, message string) {
	type inner struct {
		Date            string `json:"date"`
		RequestID       string `json:"request-id"`
		ClientRequestID string `json:"client-request-id"`
	}
	type body struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError inner  `json:"innerError"`
	}
	v := struct {
		Error body `json:"error"`
	}{body{code, message, inner{time.Now().UTC().Format("2006-01-02T15:04:05"), x.requestID, x.clientRequestID}}}
	x.writeJSONValue(status, "application/json", v)
}

// writeJSONValue answers status with v encoded by encoding/json.
func (x *exchange) writeJSONValue(status int, contentType string, v any) {
	x.w.Header().Set("Content-Type", contentType)
	x.status = status
	x.w.WriteHeader(status)
	_ = json.NewEncoder(x.w).Encode(v) // the client may have gone
}

// errUnsupportedEncoding marks a Content-Encoding the fake cannot read.
var errUnsupportedEncoding = errors.New("unsupported Content-Encoding")

// readBody reads the request body, undoing gzip Content-Encoding.
func (x *exchange) readBody() ([]byte, error) {
	var rd io.Reader = x.r.Body
	switch enc := strings.ToLower(strings.TrimSpace(x.r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(x.r.Body)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		rd = zr
	default:
		return nil, errUnsupportedEncoding
	}
	b, err := io.ReadAll(io.LimitReader(rd, maxBody+1))
	if err == nil && len(b) > maxBody {
		err = errors.New("request body too large")
	}
	return b, err
}

// decodeJSON reads the body into v, answering Graph's errors on failure.
func (x *exchange) decodeJSON(v any) bool {
	b, err := x.readBody()
	switch {
	case errors.Is(err, errUnsupportedEncoding):
		x.graphError(http.StatusUnsupportedMediaType, "UnsupportedMediaType",
			"Content-Encoding "+x.r.Header.Get("Content-Encoding")+" is not supported.")
		return false
	case err != nil:
		x.graphError(http.StatusBadRequest, "BadRequest", "Unable to read the request body: "+err.Error())
		return false
	}
	if err := json.Unmarshal(b, v); err != nil {
		x.graphError(http.StatusBadRequest, "BadRequest",
			"Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format. ("+err.Error()+")")
		return false
	}
	return true
}

// notFound answers Graph's 404 for a missing directory object.
func (x *exchange) notFound(id string) {
	x.graphError(http.StatusNotFound, "Request_ResourceNotFound",
		"Resource '"+id+"' does not exist or one of its queried reference-property objects are not present.")
}

// badRequest answers 400 Request_BadRequest.
func (x *exchange) badRequest(message string) {
	x.graphError(http.StatusBadRequest, "Request_BadRequest", message)
}

// discardWriter swallows the response of an operation whose outcome is
// replaced by an after-effect fault.
type discardWriter struct{ h http.Header }

// Header returns the (discarded) header map.
func (d *discardWriter) Header() http.Header { return d.h }

// Write discards p.
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// WriteHeader discards the status.
func (d *discardWriter) WriteHeader(int) {}
