package keeperd

import (
	"strings"
	"testing"

	"github.com/gagliardetto/solana-go"
	"github.com/modelcommons/modelcommons/keepers/keeperconfig"
)

func TestDomainMemberConfig(t *testing.T) {
	d, fd := solana.NewWallet().PublicKey().String(), solana.NewWallet().PublicKey().String()
	for _, c := range []struct {
		name    string
		cfg     keeperconfig.DomainConfig
		member  bool
		wantErr string
	}{
		{"no domain", keeperconfig.DomainConfig{}, false, ""},
		{"member", keeperconfig.DomainConfig{Address: d, FrontDoor: fd}, true, ""},
		{"address only", keeperconfig.DomainConfig{Address: d}, false, "both [domain] address and front_door"},
		{"front door only", keeperconfig.DomainConfig{FrontDoor: fd}, false, "both [domain] address and front_door"},
		{"bad address", keeperconfig.DomainConfig{Address: "nope", FrontDoor: fd}, false, "[domain] address"},
		{"bad key", keeperconfig.DomainConfig{Address: d, FrontDoor: "nope"}, false, "[domain] front_door"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := domainMemberOf(c.cfg)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || (m != nil) != c.member {
				t.Fatalf("member %v err %v", m, err)
			}
			node := solana.NewWallet().PublicKey()
			if want := node; c.member {
				if m.laneKey(node).String() != d || m.domainKey().String() != d || len(m.frontDoorKey()) != 32 {
					t.Fatal("a member admits against its domain's lanes")
				}
			} else if m.laneKey(want) != want || !m.domainKey().IsZero() || m.frontDoorKey() != nil {
				t.Fatal("a keeper in no domain admits against its node's lanes")
			}
		})
	}
}
