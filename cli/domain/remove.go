package domain

import (
	"fmt"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/duration"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/explain"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/ix"
)

// checkActive refuses a membership that already ended.
func checkActive(m *im.Membership, what string) error {
	if m.Status == im.MembershipStatus_Left || m.Status == im.MembershipStatus_Removed {
		return explain.Wrap(im.ErrInvalidMembershipStatus, fmt.Sprintf("%s already %s the domain at %s", what, m.Status, time.Unix(m.EndedAt, 0).UTC().Format(time.RFC3339)), "nothing to do")
	}
	return nil
}

func removeCommand() *cli.Command {
	return &cli.Command{
		Name:      "remove",
		Usage:     "remove a member (or refuse a request) at once; it may still settle what it served until the notice ends",
		ArgsUsage: "<domain> <node>",
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			t, err := loadMemberTarget(c)
			if err != nil {
				return err
			}
			if err := checkActive(t.m, "node "+t.node.String()); err != nil {
				return err
			}
			instr, err := ix.RemoveMember(t.op.PublicKey(), t.domain, t.node)
			if err != nil {
				return fmt.Errorf("build remove_member: %w", err)
			}
			if t.m.Status == im.MembershipStatus_Admitted {
				t.x.Session.Note("the node stops serving for %q now and may settle the runs it served until %s from now", t.d.Name, duration.Format(t.d.NoticeSecs))
			}
			return t.x.submit(c, fmt.Sprintf("remove node %s from %q", t.node, t.d.Name), t.domain, []solana.Instruction{instr}, t.labels())
		},
	}
}
