package actions

// The Solana Actions wire types (actions-spec index.d.ts, v2.4), limited to
// what this server produces and accepts.

// SpecVersion is the Actions specification version this server implements,
// sent as X-Action-Version.
const SpecVersion = "2.4"

// CORS and protocol headers, as the spec and @solana/actions send them.
// Allow-Headers accepts both spellings clients have used for the version
// and chain negotiation headers.
const (
	headerAllowOrigin   = "Access-Control-Allow-Origin"
	headerAllowMethods  = "Access-Control-Allow-Methods"
	headerAllowHeaders  = "Access-Control-Allow-Headers"
	headerExposeHeaders = "Access-Control-Expose-Headers"
	headerActionVersion = "X-Action-Version"
	headerBlockchainIDs = "X-Blockchain-Ids"

	allowMethods  = "GET,POST,PUT,OPTIONS"
	allowHeaders  = "Content-Type, Authorization, Content-Encoding, Accept-Encoding, X-Accept-Action-Version, X-Accept-Blockchain-Ids, X-Action-Version, X-Blockchain-Ids"
	exposeHeaders = "X-Action-Version, X-Blockchain-Ids"
)

// ActionsJSON is /actions.json: which website paths map to which action API paths.
type ActionsJSON struct {
	Rules []Rule `json:"rules"`
}

// Rule maps a path pattern (`*` one segment, `**` the rest) to an API path.
type Rule struct {
	PathPattern string `json:"pathPattern"`
	APIPath     string `json:"apiPath"`
}

// Action is the GET response body (ActionGetResponse) and, with type
// "completed", the end of an action chain.
type Action struct {
	Type        string       `json:"type"`
	Icon        string       `json:"icon"`
	Title       string       `json:"title"`
	Description string       `json:"description"`
	Label       string       `json:"label"`
	Disabled    bool         `json:"disabled,omitempty"`
	Links       *ActionLinks `json:"links,omitempty"`
	// Error is a non-fatal message shown with the action (e.g. why it is disabled).
	Error *ActionError `json:"error,omitempty"`
}

// ActionLinks lists the buttons and forms a client renders for an action.
type ActionLinks struct {
	Actions []LinkedAction `json:"actions"`
}

// LinkedAction is one button: POSTing to Href (after filling its
// {parameter} placeholders) returns what Type says.
type LinkedAction struct {
	Type       string      `json:"type"`
	Href       string      `json:"href"`
	Label      string      `json:"label"`
	Parameters []Parameter `json:"parameters,omitempty"`
}

// Parameter is one user input of a linked action.
type Parameter struct {
	Type               string   `json:"type,omitempty"`
	Name               string   `json:"name"`
	Label              string   `json:"label,omitempty"`
	Required           bool     `json:"required,omitempty"`
	Pattern            string   `json:"pattern,omitempty"`
	PatternDescription string   `json:"patternDescription,omitempty"`
	Min                *float64 `json:"min,omitempty"`
	Max                *float64 `json:"max,omitempty"`
	// Options of a select, radio or checkbox parameter.
	Options []Option `json:"options,omitempty"`
}

// Option is one choice of a selectable parameter.
type Option struct {
	Label    string `json:"label"`
	Value    string `json:"value"`
	Selected bool   `json:"selected,omitempty"`
}

// PostRequest is the POST body (ActionPostRequest). Data carries parameter
// values for clients that send them in the body rather than in the URL.
type PostRequest struct {
	Account string         `json:"account"`
	Type    string         `json:"type,omitempty"`
	Data    map[string]any `json:"data,omitempty"`
}

// TransactionResponse is the POST response body for a transaction action.
type TransactionResponse struct {
	Type        string     `json:"type"`
	Transaction string     `json:"transaction"`
	Message     string     `json:"message,omitempty"`
	Links       *NextLinks `json:"links,omitempty"`
}

// NextLinks chains the action: after the transaction confirms, the client
// POSTs {account, signature} to Next.Href and shows the returned action.
type NextLinks struct {
	Next NextActionLink `json:"next"`
}

// NextActionLink is a PostNextActionLink (type "post", same-origin href).
type NextActionLink struct {
	Type string `json:"type"`
	Href string `json:"href"`
}

// NextActionPostRequest is the body of the chaining callback.
type NextActionPostRequest struct {
	Account   string `json:"account"`
	Signature string `json:"signature"`
}

// ActionError is the body of every error response, and the optional
// non-fatal error of an Action.
type ActionError struct {
	Message string `json:"message"`
}

// Linked action types used here.
const (
	linkTransaction = "transaction"
	typeAction      = "action"
	typeCompleted   = "completed"
)
