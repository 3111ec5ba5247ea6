package gateway

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/modelcommons/modelcommons/keepers/receipts"
)

// MixPrefix starts a mixture model name.
const MixPrefix = "mix:"

// member is one model of a request: its public name, on-chain id and
// weight (10 000 for a single model).
type member struct {
	name   string
	id     uint64
	weight uint16
}

// parseModel resolves a request's model: a configured model name, or a
// mixture "mix:a+b" / "mix:a@7000+b@3000". The first member of a mixture
// is its aggregator.
func parseModel(model string, ids map[string]uint64) ([]member, *apiError) {
	spec, isMix := strings.CutPrefix(model, MixPrefix)
	if !isMix {
		id, ok := ids[model]
		if !ok {
			return nil, errModelNotFound(model)
		}
		return []member{{name: model, id: id, weight: receipts.WeightTotalBps}}, nil
	}
	parts := strings.Split(spec, "+")
	if len(parts) < 2 || len(parts) > receipts.MaxModels {
		return nil, errInvalid("model", fmt.Sprintf("A mixture names 2 to %d models: mix:<a>+<b>[+...], optionally with weights in basis points: mix:a@7000+b@3000.", receipts.MaxModels))
	}
	var ms []member
	weighted := 0
	total := 0
	seen := map[uint64]bool{}
	for _, p := range parts {
		name, w, hasW := strings.Cut(p, "@")
		id, ok := ids[name]
		if !ok {
			return nil, errModelNotFound(name)
		}
		if seen[id] {
			return nil, errInvalid("model", "A mixture names each model once.")
		}
		seen[id] = true
		m := member{name: name, id: id}
		if hasW {
			v, err := strconv.ParseUint(w, 10, 16)
			if err != nil || v == 0 || v > receipts.WeightTotalBps {
				return nil, errInvalid("model", fmt.Sprintf("Mixture weight %q must be an integer number of basis points from 1 to 10000.", w))
			}
			m.weight = uint16(v)
			weighted++
			total += int(v)
		}
		ms = append(ms, m)
	}
	switch weighted {
	case 0:
		each := receipts.WeightTotalBps / len(ms)
		rest := receipts.WeightTotalBps - each*len(ms)
		for i := range ms {
			ms[i].weight = uint16(each)
			if i < rest {
				ms[i].weight++
			}
		}
	case len(ms):
		if total != receipts.WeightTotalBps {
			return nil, errInvalid("model", fmt.Sprintf("Mixture weights sum to %d basis points; they must sum to 10000.", total))
		}
	default:
		return nil, errInvalid("model", "Give a weight for every model of the mixture or for none.")
	}
	return ms, nil
}
