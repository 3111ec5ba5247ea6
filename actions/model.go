package actions

import (
	"context"
	"fmt"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
)

// overview is GET /api/actions/models/{id}: the model, where it stands,
// and one button (or form) for each action open to contributors now.
func (s *Server) overview(ctx context.Context, c *call) (*Action, error) {
	m := c.model
	a := &Action{Icon: s.icon(m), Title: m.Title(), Label: "Open"}
	var links []LinkedAction
	var why string
	switch m.Model.Stage {
	case mt.Stage_Launching:
		a.Description = fmt.Sprintf("%s is being launched; its crowdfund opens once the launch is finished.", m.Title())
		why = contributeBlocked(m)
	case mt.Stage_Funding:
		cf := m.Model.Crowdfund
		a.Description = fmt.Sprintf("%s is raising funds: %s at %s per %s, %s; open %s to %s.",
			m.Title(), m.MT.Symbol, m.Native.Format(cf.Price), m.MT.Symbol, raiseSummary(m), when(cf.Start, m.Now), when(cf.End, m.Now))
		if why = contributeBlocked(m); why == "" {
			links = append(links, s.contributeLink(m))
		}
		if finalizeBlocked(m) == "" {
			links = append(links, s.finalizeLink(m))
			a.Description += " " + finalizeOutcome(m)
			why = ""
		}
	case mt.Stage_Active:
		open, err := s.openProposals(ctx, m)
		if err != nil {
			return nil, err
		}
		a.Description = fmt.Sprintf("%s is community-owned: its raise succeeded (%s). Contributors claim their %s. %s %s",
			m.Title(), raiseSummary(m), m.MT.Symbol, s.governanceSummary(m), s.marketSummary(m))
		switch len(open) {
		case 0:
			a.Description += " No proposal is open for votes."
		case 1:
			a.Description += " 1 proposal is open for votes."
		default:
			a.Description += fmt.Sprintf(" %d proposals are open for votes.", len(open))
		}
		bounties, err := s.openBounties(ctx, m)
		if err != nil {
			return nil, err
		}
		a.Description += s.bountiesSummary(m, bounties)
		links = append(links, s.claimLink(m))
		more, err := s.activeLinks(ctx, m, open)
		if err != nil {
			return nil, err
		}
		links = append(links, more...)
		links = append(links, s.bountyLinks(m, bounties)...)
	case mt.Stage_Failed:
		a.Description = fmt.Sprintf("The raise of %s failed (%s): contributors take back all they paid.", m.Title(), raiseSummary(m))
		links = append(links, s.refundLink(m))
	}
	if len(links) > 0 {
		a.Links = &ActionLinks{Actions: links}
	}
	disable(a, why)
	return a, nil
}

// activeLinks are the actions of an active model beyond claiming MT:
// governance, rewards and the market, as far as the program offers them.
func (s *Server) activeLinks(ctx context.Context, m *modelState, open []*mt.Proposal) ([]LinkedAction, error) {
	links := []LinkedAction{s.depositLink(m), s.withdrawLink(m)}
	for _, p := range open {
		links = append(links, s.voteLink(m, p))
	}
	links = append(links, s.rewardsLink(m))
	if marketBlocked(m) == "" {
		links = append(links, s.swapLink(m, mt.SwapSide_Buy), s.swapLink(m, mt.SwapSide_Sell))
	} else if why, err := s.openMarketBlocked(ctx, m); err != nil {
		return nil, err
	} else if why == "" {
		links = append(links, s.openMarketLink(m))
	}
	return links, nil
}
