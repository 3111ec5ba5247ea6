package rules

import (
	"fmt"
	"math/bits"

	im "github.com/modelcommons/modelcommons/clients/inference_meter"
)

// The inference_meter domain rules (programs/inference-meter/src/state/
// domain.rs, membership.rs, instructions/create_domain.rs, settle.rs).

// MaxDomainNameLen mirrors MAX_DOMAIN_NAME_LEN: a domain name is a PDA seed.
const MaxDomainNameLen = 32

const bpsDenominator = 10_000

// CheckDomainName mirrors check_domain_name: 1..=32 bytes of printable
// ASCII without spaces.
func CheckDomainName(name string) error {
	if len(name) == 0 || len(name) > MaxDomainNameLen {
		return fmt.Errorf("domain name %q is %d bytes, must be 1 to %d: %w", name, len(name), MaxDomainNameLen, im.ErrInvalidDomainName)
	}
	for _, b := range []byte(name) {
		if b < 0x21 || b >= 0x7f {
			return fmt.Errorf("domain name %q has a space or a non-printable byte: %w", name, im.ErrInvalidDomainName)
		}
	}
	return nil
}

// CheckDomainTerms mirrors check_domain_terms (create_domain and
// update_domain): fee at most 100%, notice positive and at least the meter's
// withdrawal notice.
func CheckDomainTerms(meter *im.MeterConfig, feeBps uint16, noticeSecs int64) error {
	if feeBps > bpsDenominator {
		return fmt.Errorf("domain fee %d bps is above 10000: %w", feeBps, im.ErrInvalidBps)
	}
	if noticeSecs <= 0 || noticeSecs < meter.WithdrawalNoticeSecs {
		return fmt.Errorf("notice %ds is shorter than the meter's withdrawal notice %ds: %w", noticeSecs, meter.WithdrawalNoticeSecs, im.ErrPeriodTooShort)
	}
	return nil
}

// CheckDomainBond mirrors create_domain's bond rule.
func CheckDomainBond(meter *im.MeterConfig, bond uint64) error {
	if bond == 0 || bond < meter.MinNodeStake {
		return fmt.Errorf("bond %d is below the meter's minimum node stake %d: %w", bond, meter.MinNodeStake, im.ErrInsufficientBond)
	}
	return nil
}

// CheckNodeEligible mirrors check_node_eligible (request_join, admit_member):
// the node is active and staked at least the domain's minimum.
func CheckNodeEligible(node *im.Node, domain *im.Domain) error {
	switch node.Status {
	case im.NodeStatus_Active:
	case im.NodeStatus_Inactive:
		return fmt.Errorf("node: %w", im.ErrNodeInactive)
	default:
		return fmt.Errorf("node: %w", im.ErrNodeUnbonding)
	}
	if node.Stake < domain.MinNodeStake {
		return fmt.Errorf("node stake %d, domain minimum %d: %w", node.Stake, domain.MinNodeStake, im.ErrBelowDomainMinStake)
	}
	return nil
}

// DomainFeeAt mirrors Domain::fee_at: the fee share for runs served at servedAt.
func DomainFeeAt(d *im.Domain, servedAt int64) uint16 {
	if servedAt >= d.FeeEffectiveAt {
		return d.FeeBps
	}
	return d.PreviousFeeBps
}

// DomainFee mirrors settle's domain split: floor(toOperator × feeBps /
// 10 000), taken out of the operator's cut (so the node operator keeps
// toOperator − DomainFee, and the escrow pays nothing extra).
func DomainFee(toOperator uint64, feeBps uint16) (uint64, error) {
	if feeBps > bpsDenominator {
		return 0, fmt.Errorf("domain fee %d bps: %w", feeBps, im.ErrInvalidBps)
	}
	hi, lo := bits.Mul64(toOperator, uint64(feeBps))
	q, _ := bits.Div64(hi, lo, bpsDenominator) // hi < 10 000 since feeBps ≤ 10 000
	return q, nil
}

// MembershipMaySettle mirrors Membership::check_may_settle: admitted, or
// ended and now ≤ settle_until.
func MembershipMaySettle(m *im.Membership, now int64) error {
	switch m.Status {
	case im.MembershipStatus_Admitted:
		return nil
	case im.MembershipStatus_Requested:
		return im.ErrNotDomainMember
	default:
		if now > m.SettleUntil {
			return fmt.Errorf("membership ended at %d, settlement allowed until %d: %w", m.EndedAt, m.SettleUntil, im.ErrMembershipEnded)
		}
		return nil
	}
}

// ServedAsMember mirrors Membership::check_served: admitted_at ≤ servedAt,
// and servedAt < ended_at once ended.
func ServedAsMember(m *im.Membership, servedAt int64) error {
	if m.AdmittedAt == 0 || servedAt < m.AdmittedAt {
		return fmt.Errorf("served at %d, admitted at %d: %w", servedAt, m.AdmittedAt, im.ErrServedOutsideMembership)
	}
	ended := m.Status == im.MembershipStatus_Left || m.Status == im.MembershipStatus_Removed
	if ended && servedAt >= m.EndedAt {
		return fmt.Errorf("served at %d, membership ended at %d: %w", servedAt, m.EndedAt, im.ErrServedOutsideMembership)
	}
	return nil
}

// CheckDomainLane mirrors Escrow::check_domain_lane (allow_domain, settle):
// a lane opened to a domain is that domain's only if it records the
// domain's serial; a lane left from a closed domain at the same address is
// stale. Node lanes record 0 and are never checked against a domain.
func CheckDomainLane(laneSerial, domainSerial uint64) error {
	if laneSerial != domainSerial {
		return fmt.Errorf("lane opened to domain #%d, the domain there now is #%d: %w", laneSerial, domainSerial, im.ErrDomainLaneStale)
	}
	return nil
}
