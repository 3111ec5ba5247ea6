package domain

import (
	"fmt"

	"github.com/modelcommons/modelcommons/cli/duration"
	"github.com/modelcommons/modelcommons/clients/explain"
	"github.com/modelcommons/modelcommons/clients/rules"
)

// checkName is rules.CheckDomainName, worded for the command line.
func checkName(name string) error {
	if err := rules.CheckDomainName(name); err != nil {
		return explain.Wrap(err, fmt.Sprintf("domain name %q must be 1 to %d bytes of printable ASCII without spaces (it is part of the domain's address)", name, rules.MaxDomainNameLen), "choose a short name such as `eu-small`")
	}
	return nil
}

// parseFeeBps reads a fee share in basis points (0..10000).
func parseFeeBps(flag, s string) (uint16, error) {
	var v uint64
	if _, err := fmt.Sscan(s, &v); err != nil || fmt.Sprint(v) != s {
		return 0, explain.Newf("give basis points from 0 to 10000 (10% = 1000)", "%s %q is not a whole number of basis points", flag, s)
	}
	if v > 10_000 {
		return 0, explain.Newf("give basis points from 0 to 10000 (10% = 1000)", "%s %d is above 10000 (100%%)", flag, v)
	}
	return uint16(v), nil
}

// parseNotice reads --notice as a span (90s, 15m, 2h, 7d).
func parseNotice(s string) (int64, error) {
	v, err := duration.ParseSeconds(s)
	if err != nil {
		return 0, explain.Wrap(err, fmt.Sprintf("--notice %q is not a span of time", s), "write it as 90s, 15m, 2h or 7d")
	}
	if v <= 0 {
		return 0, explain.Newf("give a positive span, at least the meter's withdrawal notice", "--notice %s is not positive", s)
	}
	return v, nil
}
