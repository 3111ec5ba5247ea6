package escrow

import (
	"fmt"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/duration"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/amount"
	"github.com/modelcommons/modelcommons/clients/explain"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/ix"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/settlement"
)

// revokeStep is what `mt escrow revoke` does next for a lane. Taking a
// lane back takes two transactions a notice apart, so that a node is never
// left with runs it served and cannot settle; one command does whichever
// step is due, so people need not remember which.
type revokeStep int

const (
	// revokeRequest: no revocation pending; start the notice.
	revokeRequest revokeStep = iota
	// revokeComplete: the notice is over; close the lane.
	revokeComplete
	// revokeWait: the notice is still running.
	revokeWait
)

// nextRevokeStep is the step due for lane l at now, and when the lane can
// be (or could have been) revoked. The notice ends at requested_at +
// notice inclusive, as the program checks it.
func nextRevokeStep(l *im.Lane, notice int64, now time.Time) (revokeStep, time.Time) {
	if l.RevokeRequestedAt == 0 {
		return revokeRequest, now.Add(time.Duration(notice) * time.Second).UTC()
	}
	due := time.Unix(l.RevokeRequestedAt+notice, 0).UTC()
	if now.Unix() >= due.Unix() {
		return revokeComplete, due
	}
	return revokeWait, due
}

// laneFor finds the lane a command names by the node's address or its
// operator's. Lanes are matched on the escrow itself, so a lane whose node
// account is gone can still be revoked.
func laneFor(addr solana.PublicKey, e *im.Escrow, arg string) (solana.PublicKey, *im.Lane, error) {
	k, err := solana.PublicKeyFromBase58(strings.TrimSpace(arg))
	if err != nil {
		return solana.PublicKey{}, nil, explain.Newf("pass the node's address or its operator's address (`mt escrow show` lists the lanes)", "node %q is not an address", arg)
	}
	for _, node := range []solana.PublicKey{k, pda.Node(k)} {
		if l := settlement.LaneOf(e, node); l != nil {
			return node, l, nil
		}
	}
	return solana.PublicKey{}, nil, explain.Newf("`mt escrow show "+addr.String()+"` lists the escrow's lanes",
		"escrow %s has no lane for node %s (nor for the node of operator %s)", addr, k, k)
}

// Revocation is what `mt escrow revoke` did.
type Revocation struct {
	Node solana.PublicKey `json:"node"`
	// Step is "requested" (the notice started) or "revoked" (the lane closed).
	Step        string         `json:"step"`
	RevocableAt time.Time      `json:"revocable_at"`
	Returned    *amount.Tokens `json:"returned,omitempty"`
}

type revoked struct {
	View
	Revocation Revocation `json:"revocation"`
}

func (r revoked) Text() string {
	var line string
	switch rv := r.Revocation; rv.Step {
	case "requested":
		line = fmt.Sprintf("Revocation of node %s's lane requested. Until %s the node can still settle runs it served;\n"+
			"then run `mt escrow revoke %s %s` again to return what is left in the lane to the unallocated balance.\n\n",
			rv.Node, rv.RevocableAt.Format(time.RFC3339), r.Address, rv.Node)
	default:
		line = fmt.Sprintf("Lane of node %s closed: %s returned to the unallocated balance; the node can no longer charge this escrow.\n\n", rv.Node, rv.Returned)
	}
	return line + r.View.Text()
}

func revokeCommand() *cli.Command {
	return &cli.Command{
		Name:  "revoke",
		Usage: "take a node's lane back: the first run requests it, the run after the withdrawal notice returns the lane's balance to unallocated",
		Description: "The notice is the meter's withdrawal notice (`mt meter show`): until it ends the node can still settle the runs it served,\n" +
			"so it is never left unpaid. `mt escrow allow` on the same node cancels a pending revocation.",
		ArgsUsage: "[<escrow address or API key>] <node>",
		Flags:     session.WriteFlags(keyFileFlag()),
		Action: func(c *cli.Context) error {
			x, addr, args, err := loadTarget(c, "escrow", "node")
			if err != nil {
				return err
			}
			e, owner, err := x.owned(c, addr)
			if err != nil {
				return err
			}
			node, lane, err := laneFor(addr, e, args[0])
			if err != nil {
				return err
			}
			now, err := x.Session.Now(c.Context)
			if err != nil {
				return err
			}
			notice := x.Meter.WithdrawalNoticeSecs
			step, due := nextRevokeStep(lane, notice, now)
			var inst solana.Instruction
			var what string
			switch step {
			case revokeWait:
				return explain.Newf("run this again then; until then the node can still settle runs it served (`mt escrow allow` cancels the revocation)",
					"the revocation of node %s's lane can complete at %s, in %s", node, due.Format(time.RFC3339), duration.Format(due.Unix()-now.Unix()))
			case revokeRequest:
				x.Session.Note("node %s can still settle runs it served until %s (the %s notice); run `mt escrow revoke` again then", node, due.Format(time.RFC3339), duration.Format(notice))
				inst, err = ix.RequestRevoke(owner.PublicKey(), addr, node)
				what = fmt.Sprintf("request the revocation of node %s's lane on escrow %s", node, addr)
			case revokeComplete:
				inst, err = ix.RevokeNode(owner.PublicKey(), addr, node)
				what = fmt.Sprintf("revoke node %s's lane on escrow %s (%s back to unallocated)", node, addr, x.Native(lane.Balance))
			}
			if err != nil {
				return fmt.Errorf("build the revocation: %w", err)
			}
			labels := x.labels(addr)
			before := e.Balance
			return x.Session.Submit(c.Context, session.Tx{What: what, Instructions: []solana.Instruction{inst}, Labels: labels},
				func(sig solana.Signature) (any, error) {
					v, after, err := x.view(c, addr)
					if err != nil {
						return nil, err
					}
					r := revoked{View: withSig(v, sig), Revocation: Revocation{Node: node, Step: "requested", RevocableAt: due}}
					if step == revokeComplete {
						// What came back is what the unallocated balance grew by.
						ret := x.Native(after.Balance - min(before, after.Balance))
						r.Revocation.Step, r.Revocation.Returned = "revoked", &ret
					} else if l := settlement.LaneOf(after, node); l != nil && l.RevokeRequestedAt != 0 {
						r.Revocation.RevocableAt = time.Unix(l.RevokeRequestedAt+notice, 0).UTC()
					}
					return r, nil
				})
		},
	}
}
