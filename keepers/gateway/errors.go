package gateway

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// apiError is an OpenAI-style error response.
type apiError struct {
	status  int
	typ     string
	code    string
	param   string
	message string
	// retryAfter, in seconds, for 429 and 503.
	retryAfter int
}

func (e *apiError) Error() string { return e.message }

func errInvalid(param, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", param: param, message: msg}
}

var (
	errNoKey = &apiError{status: http.StatusUnauthorized, typ: "invalid_request_error", code: "invalid_api_key",
		message: "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'."}
	errBadKey = &apiError{status: http.StatusUnauthorized, typ: "invalid_request_error", code: "invalid_api_key",
		message: "Incorrect API key provided: no escrow is open for this key."}
	errRotatedKey = &apiError{status: http.StatusUnauthorized, typ: "invalid_request_error", code: "invalid_api_key",
		message: "This API key was rotated; use the new key."}
	errTooLarge = &apiError{status: http.StatusRequestEntityTooLarge, typ: "invalid_request_error", code: "request_too_large",
		message: "Request body too large."}
	errNotFound = &apiError{status: http.StatusNotFound, typ: "invalid_request_error", code: "not_found", message: "Unknown endpoint."}
)

func errModelNotFound(model string) *apiError {
	return &apiError{status: http.StatusNotFound, typ: "invalid_request_error", code: "model_not_found", param: "model",
		message: "The model '" + model + "' does not exist or is not served by this keeper."}
}

func errModelNotAllowed(model string) *apiError {
	return &apiError{status: http.StatusForbidden, typ: "invalid_request_error", code: "model_not_allowed", param: "model",
		message: "This API key's escrow does not allow the model '" + model + "'."}
}

func errFunds(msg string) *apiError {
	return &apiError{status: http.StatusPaymentRequired, typ: "insufficient_quota", code: "insufficient_quota", message: msg}
}

func errRateLimited(msg string, after int) *apiError {
	return &apiError{status: http.StatusTooManyRequests, typ: "rate_limit_error", code: "rate_limit_exceeded", message: msg, retryAfter: after}
}

// errLimit refuses a request over one of the key's per-minute budgets
// (Config.Limits). A request larger than a whole budget gets no
// Retry-After: waiting does not help.
func errLimit(h *limitHit) *apiError {
	e := &apiError{status: http.StatusTooManyRequests, typ: "rate_limit_exceeded", code: "rate_limit_exceeded", message: h.message()}
	if !h.never() {
		e.retryAfter = h.retryAfter()
	}
	if h.limit == "tpm" {
		e.param = "max_tokens"
	}
	return e
}

func errReceiptNotFound(id string) *apiError {
	return &apiError{status: http.StatusNotFound, typ: "invalid_request_error", code: "receipt_not_found", param: "run_id",
		message: "No receipt for run " + id + " under this API key on this keeper: a run that failed, or whose client left before its first chunk, is not charged and has none."}
}

func errUnavailable(msg string) *apiError {
	return &apiError{status: http.StatusServiceUnavailable, typ: "server_error", code: "no_healthy_worker", message: msg, retryAfter: 1}
}

func errPriceUnavailable(model string) *apiError {
	return &apiError{status: http.StatusServiceUnavailable, typ: "server_error", code: "price_unavailable", param: "model", retryAfter: 2,
		message: "The keeper cannot read the price of '" + model + "' from the chain right now; try again shortly."}
}

func errUpstream(msg string) *apiError {
	return &apiError{status: http.StatusBadGateway, typ: "server_error", code: "worker_error", message: msg}
}

func errInternal(msg string) *apiError {
	return &apiError{status: http.StatusInternalServerError, typ: "server_error", code: "internal_error", message: msg}
}

type errorBody struct {
	Error errorFields `json:"error"`
}

type errorFields struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func (e *apiError) body() []byte {
	f := errorFields{Message: e.message, Type: e.typ}
	if e.param != "" {
		f.Param = &e.param
	}
	if e.code != "" {
		f.Code = &e.code
	}
	b, _ := json.Marshal(errorBody{Error: f})
	return b
}

// write sends e as the whole response.
func (e *apiError) write(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	w.WriteHeader(e.status)
	_, _ = w.Write(e.body())
}

// sseError is the event that ends a stream that failed after it started.
func sseError(e *apiError) []byte {
	b := append([]byte("data: "), e.body()...)
	return append(b, '\n', '\n')
}
