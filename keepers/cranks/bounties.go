package cranks

import (
	"context"
	"fmt"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/rules"
)

// dueBounties lists submissions to finalise (rules.SubmissionDue), then
// bounties past their reveal window that are not settled; a bounty is
// re-read before its crank and sent only once every submission is
// finalised (rules.BountySettleDue), so the submissions listed before it
// in the same round can make it due.
func (c *Cranker) dueBounties(ctx context.Context, now int64) ([]item, error) {
	accounts, err := c.scan(ctx, memcmp(0, mt.Account_Bounty[:]))
	if err != nil {
		return nil, err
	}
	ended := map[solana.PublicKey]*mt.Bounty{}
	for _, a := range accounts {
		b, err := mt.ParseAccount_Bounty(a.Account.Data.GetBinary())
		if err != nil || b.Settled || now < b.RevealEnds {
			continue
		}
		ended[a.Pubkey] = b
	}
	if len(ended) == 0 {
		return nil, nil
	}
	subs, err := c.scan(ctx, memcmp(0, mt.Account_Submission[:]))
	if err != nil {
		return nil, err
	}
	var out, settles []item
	for _, a := range subs {
		s, err := mt.ParseAccount_Submission(a.Account.Data.GetBinary())
		if err != nil {
			continue
		}
		b, ok := ended[s.Bounty]
		if !ok || !rules.SubmissionDue(b, s, now) {
			continue
		}
		addr, bounty, model, id, contributor := a.Pubkey, s.Bounty, b.Model, b.Id, s.Contributor
		out = append(out, item{
			kind: KindSubmission, address: addr,
			still: func(ctx context.Context) (bool, error) {
				s, err := c.submission(ctx, addr)
				if err != nil || s == nil {
					return false, err
				}
				b, err := c.bounty(ctx, bounty)
				if err != nil || b == nil {
					return false, err
				}
				now, err := c.clock(ctx)
				return err == nil && rules.SubmissionDue(b, s, now), err
			},
			build: func() (solana.Instruction, error) { return ix.FinalizeSubmission(model, id, contributor) },
		})
	}
	for addr, b := range ended {
		addr, model, id := addr, b.Model, b.Id
		settles = append(settles, item{
			kind: KindBounty, address: addr,
			still: func(ctx context.Context) (bool, error) {
				b, err := c.bounty(ctx, addr)
				if err != nil || b == nil {
					return false, err
				}
				now, err := c.clock(ctx)
				return err == nil && rules.BountySettleDue(b, now), err
			},
			build: func() (solana.Instruction, error) { return ix.SettleBounty(model, id) },
		})
	}
	return append(out, settles...), nil
}

func (c *Cranker) bounty(ctx context.Context, addr solana.PublicKey) (*mt.Bounty, error) {
	data, err := c.read(ctx, addr)
	if err != nil || data == nil {
		return nil, err
	}
	b, err := mt.ParseAccount_Bounty(data)
	if err != nil {
		return nil, fmt.Errorf("bounty %s: %w", addr, err)
	}
	return b, nil
}

func (c *Cranker) submission(ctx context.Context, addr solana.PublicKey) (*mt.Submission, error) {
	data, err := c.read(ctx, addr)
	if err != nil || data == nil {
		return nil, err
	}
	s, err := mt.ParseAccount_Submission(data)
	if err != nil {
		return nil, fmt.Errorf("submission %s: %w", addr, err)
	}
	return s, nil
}
