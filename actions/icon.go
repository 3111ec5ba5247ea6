package actions

import (
	"context"
	"crypto/sha256"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
)

// icon is the absolute URL of a model's icon.
func (s *Server) icon(m *modelState) string {
	if s.cfg.IconURL != "" {
		return s.cfg.IconURL
	}
	return s.url(fmt.Sprintf("/icons/models/%d.svg", m.ID))
}

// modelIcon serves GET /icons/models/{id}.svg: a generated badge with the
// model's MT symbol, coloured from its address (actions need an SVG, PNG or
// WebP icon at an absolute URL; the MT's metadata URI is the creator's and
// may be anything).
func (s *Server) modelIcon(w http.ResponseWriter, r *http.Request) {
	idText, ok := strings.CutSuffix(r.PathValue("id"), ".svg")
	if !ok {
		s.fail(w, r, notFound("Icons are served as .svg."))
		return
	}
	if _, err := strconv.ParseUint(idText, 10, 64); err != nil {
		s.fail(w, r, notFound("There is no model %q.", idText))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	m, err := s.loadModel(ctx, idText)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sum := sha256.Sum256(m.Addr[:])
	hue := int(sum[0])<<8 | int(sum[1])
	svg := fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512" viewBox="0 0 512 512">`+
		`<rect width="512" height="512" rx="96" fill="hsl(%d,55%%,32%%)"/>`+
		`<circle cx="256" cy="220" r="132" fill="hsl(%d,70%%,58%%)"/>`+
		`<text x="256" y="248" font-family="sans-serif" font-size="%d" font-weight="700" text-anchor="middle" fill="#fff">%s</text>`+
		`<text x="256" y="440" font-family="sans-serif" font-size="36" text-anchor="middle" fill="#fff" opacity="0.85">Model Commons #%d</text>`+
		`</svg>`, hue%360, (hue+40)%360, iconFontSize(m.MT.Symbol), html.EscapeString(m.MT.Symbol), m.ID)
	h := w.Header()
	h.Set("Content-Type", "image/svg+xml")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(svg))
	}
}

func iconFontSize(symbol string) int {
	switch n := len([]rune(symbol)); {
	case n <= 3:
		return 96
	case n <= 5:
		return 72
	default:
		return 44
	}
}
