package frontdoor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/keepers/gateway"
)

// Member is one admitted node of the domain and its keeper's gateway.
type Member struct {
	Node solana.PublicKey
	// URL is the gateway's base URL (the node's on-chain endpoint, with or
	// without a trailing /v1).
	URL string
}

// MemberSource lists the domain's admitted members.
type MemberSource interface {
	Members(ctx context.Context) ([]Member, error)
}

// StaticMembers is a fixed member list (tests, benchmarks).
type StaticMembers []Member

// Members implements MemberSource.
func (s StaticMembers) Members(context.Context) ([]Member, error) { return s, nil }

// baseURL normalises a member endpoint to the gateway's root.
func baseURL(endpoint string) (string, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(endpoint), "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("member endpoint %q is not an http(s) URL", endpoint)
	}
	u.Path = strings.TrimSuffix(u.Path, "/v1")
	return u.String(), nil
}

// memberMarks asks members for their journal high-water marks.
type memberMarks struct {
	client *http.Client
	mu     sync.RWMutex
	urls   map[solana.PublicKey]string
}

func (m *memberMarks) set(members []Member) {
	urls := make(map[solana.PublicKey]string, len(members))
	for _, x := range members {
		urls[x.Node] = x.URL
	}
	m.mu.Lock()
	// A member that left stays known: its owed runs still need its mark.
	if m.urls == nil {
		m.urls = urls
	} else {
		for k, v := range urls {
			m.urls[k] = v
		}
	}
	m.mu.Unlock()
}

// HighWater implements HighWater.
func (m *memberMarks) HighWater(ctx context.Context, node solana.PublicKey) (uint64, error) {
	m.mu.RLock()
	base, ok := m.urls[node]
	m.mu.RUnlock()
	if !ok {
		return 0, fmt.Errorf("member %s unknown", node)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/domain/high-water", nil)
	if err != nil {
		return 0, err
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("member %s high-water: %w", node, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("member %s high-water: HTTP %d", node, resp.StatusCode)
	}
	var hw gateway.HighWater
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&hw); err != nil {
		return 0, fmt.Errorf("member %s high-water: %w", node, err)
	}
	return hw.HighestRunSeq, nil
}
